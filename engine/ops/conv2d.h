// Dense 2-D convolution op on channel-major activations: y [K, N, P, Q] = conv(w [K, C, R, S], x [C, N, H, W]) + b.
// Forward and backward sit side by side in conv2d.cc; the kernels are engine/kernels/conv2d (im2col + sgemm).
// Square stride and zero padding for both spatial axes; the kernel size is read from the weight's shape.
#ifndef ENGINE_OPS_CONV2D_H_
#define ENGINE_OPS_CONV2D_H_

#include <cstdint>

#include "engine/autograd/parameter.h"
#include "engine/autograd/variable.h"

namespace engine {

// x [C, N, H, W]; w.var [K, C, R, S] (PyTorch layout); b (optional) [K]. Returns y [K, N, P, Q] with
// P = (H + 2*pad - R) / stride + 1, Q likewise. The backward accumulates into x's gradient (when it takes one),
// w's and b's.
Variable Conv2d(const Variable& x, DenseParameter& w, DenseParameter* b, int64_t stride, int64_t pad);

}  // namespace engine

#endif  // ENGINE_OPS_CONV2D_H_
