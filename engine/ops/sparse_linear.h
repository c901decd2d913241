// Sparse fully connected layer: y[out, batch] = W[out, in] · x[in, batch] + b[out] with W in CSR.
// Gradients exist only on W's pattern (SDDMM); the dense weight gradient dy·xᵀ that RigL's grow step needs is
// offered row-tile by row-tile through SparseParameter::dense_grad_rows, and only when w.want_dense_grad is set.
#ifndef ENGINE_OPS_SPARSE_LINEAR_H_
#define ENGINE_OPS_SPARSE_LINEAR_H_

#include "engine/autograd/parameter.h"
#include "engine/autograd/variable.h"

namespace engine {

// x [in, batch]; w.weight [out, in] CSR; b (optional) [out]. Returns y [out, batch]. The backward accumulates
// into x.grad(), w.grad (nnz) and b's gradient; it checks that w's topology did not change since the forward.
Variable SparseLinear(const Variable& x, SparseParameter& w, DenseParameter* b);

}  // namespace engine

#endif  // ENGINE_OPS_SPARSE_LINEAR_H_
