// Dense fully connected layer on feature-major activations: y[out, batch] = W[out, in] · x[in, batch] + b[out].
// Dense matrix products go to OpenBLAS through kernels::Gemm. The sparse twin is sparse_linear.h.
#ifndef ENGINE_OPS_LINEAR_H_
#define ENGINE_OPS_LINEAR_H_

#include "engine/autograd/parameter.h"
#include "engine/autograd/variable.h"

namespace engine {

// x [in, batch]; w.var [out, in]; b (optional) [out]. Returns y [out, batch].
Variable Linear(const Variable& x, DenseParameter& w, DenseParameter* b);

}  // namespace engine

#endif  // ENGINE_OPS_LINEAR_H_
