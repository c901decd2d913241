// Sparse 2-D convolution op: y [K, N, P, Q] = conv(W, x [C, N, H, W]) + b with W a CSR filter bank of K rows and
// C*R*S columns (column c*R*S + r*S + s). Gradients exist only on W's pattern; the dense weight gradient RigL's grow
// step needs is offered row-tile by row-tile through SparseParameter::dense_grad_rows, only when w.want_dense_grad.
#ifndef ENGINE_OPS_SPARSE_CONV2D_H_
#define ENGINE_OPS_SPARSE_CONV2D_H_

#include <cstdint>

#include "engine/autograd/parameter.h"
#include "engine/autograd/variable.h"

namespace engine {

// x [C, N, H, W]; w.weight [K, C*kernel_h*kernel_w] CSR; b (optional) [K]. Returns y [K, N, P, Q]. The backward
// accumulates into x's gradient (when it takes one), w.grad (nnz) and b's gradient, and checks that w's topology
// did not change since the forward.
// With w.want_dense_grad, each w.dense_grad_rows(r0, r1, out) call runs the dense weight-gradient kernel for output
// channels [r0, r1) (an im2col of the whole batch, chunked, plus sgemm), so few large tiles are much cheaper than
// many small ones; memory stays O(tile + im2col chunk), never the full dense gradient.
Variable SparseConv2d(const Variable& x, SparseParameter& w, DenseParameter* b, int64_t kernel_h, int64_t kernel_w,
                      int64_t stride, int64_t pad);

}  // namespace engine

#endif  // ENGINE_OPS_SPARSE_CONV2D_H_
