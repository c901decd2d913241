// Depthwise 2-D convolution op (depth multiplier 1) on channel-major activations: y [C, N, P, Q] =
// depthwise_conv(w [C, 1, R, S], x [C, N, H, W]). Always dense (RigL never masks depthwise layers). The kernels are
// engine/kernels/depthwise_conv2d. Square stride and zero padding on both spatial axes; the filter size is read
// from the weight's shape. No bias (MobileNet follows every depthwise conv with batch norm).
#ifndef ENGINE_OPS_DEPTHWISE_CONV2D_H_
#define ENGINE_OPS_DEPTHWISE_CONV2D_H_

#include <cstdint>

#include "engine/autograd/parameter.h"
#include "engine/autograd/variable.h"

namespace engine {

// x [C, N, H, W]; w.var [C, 1, R, S]. Returns y [C, N, P, Q], P = (H + 2*pad - R) / stride + 1, Q likewise. The
// backward accumulates into x's gradient (when it takes one) and w's.
Variable DepthwiseConv2d(const Variable& x, DenseParameter& w, int64_t stride, int64_t pad);

}  // namespace engine

#endif  // ENGINE_OPS_DEPTHWISE_CONV2D_H_
