// Direct stride-1 convolution for layers with few input channels: a network's first layers (LeNet-5's conv1 1->6
// and conv2 6->16, the 1-channel stems of WRN-22-2 and the MobileNets at 28x28). There im2col copies every input
// R*S times and sgemm's packing costs more than its product, because K is small. The same contracts as Conv2dForward
// and Conv2dBackwardWeight (conv2d.h), which call these when UseDirectConv2d says so; internal to engine/kernels.
//
// Layout and legend as conv2d.h. Each image is first copied into zero-padded planes [C, Hp, Wa]. Hp = H + 2 pad;
// Wa = max(W + 2 pad, Qv + S - 1), where Qv is Q rounded up to 16. Every tap then reads inside the copy, and the
// q loops run over whole vectors.
//   forward:     parallel over images. y[k, n, p, :] = sum over taps (c, r, s), ascending, of
//                w[k, c, r, s] * xpad[c, p + r, s : s + Q], then bias, then ReLU. Four output channels x the row's
//                vectors accumulate in registers.
//   weight grad: parallel over (k, block of 8 taps). acc[tap, lane] += dy[k, n, p, q] * xpad[c, p + r, q + s],
//                over images and rows in ascending order, with q = vector lane. Then
//                d_w[k, tap] += (sum of the row's vectors) summed over lanes in ascending order.
// Every output element has one writer and a fixed order of operations, so results are bitwise the same for any
// thread count. AVX-512, AVX2 and portable paths are one source compiled three times (engine::ActiveIsa()).
#ifndef ENGINE_KERNELS_CONV2D_DIRECT_H_
#define ENGINE_KERNELS_CONV2D_DIRECT_H_

#include "engine/kernels/conv2d.h"
#include "engine/tensor/views.h"

namespace engine::kernels::internal {

// Stride 1, not pointwise, at most 8 input channels, output rows of at most 64.
bool UseDirectConv2d(const Conv2dParams& cp);

// y := conv(w, x) (+ bias) (ReLU). FLOPs counted as Conv2dForward counts them.
void DirectConv2dForward(const Conv2dParams& cp, ConstDenseView w, ConstDenseView x, DenseView y, const float* bias,
                         bool relu);
// d_w += dY · im2col(X)ᵀ without the im2col. FLOPs counted as Conv2dBackwardWeight counts them.
void DirectConv2dBackwardWeight(const Conv2dParams& cp, ConstDenseView d_y, ConstDenseView x, DenseView d_w);

}  // namespace engine::kernels::internal

#endif  // ENGINE_KERNELS_CONV2D_DIRECT_H_
