// Direct stride-1 convolution for layers with many channels on small images (WRN-22-2's 3x3 layers: 16-128
// channels on 28x28, 14x14, 7x7). There im2col copies every input R*S times, and with K of 32-128 output channels
// that copy and sgemm's packing of it cost about as much as the product. The same contracts as Conv2dForward and
// Conv2dBackwardInput (conv2d.h), which call these when UseDirectPlaneConv2d says so; internal to engine/kernels.
//
// Layout and legend as conv2d.h. Each image is copied into zero-padded planes [C, Hp, Wp] (Hp = H + 2 pad_h,
// Wp = W + 2 pad_w) followed by a few zero vectors. In that copy the input of output (p, q) under tap (c, r, s) is at
// p * Wp + q + ((c * Hp + r) * Wp + s): one offset per tap, so a run of consecutive "plane positions" i = p * Wp + q
// (the columns q >= Q in between are computed and discarded) is one contiguous load per tap.
//   forward:        parallel over images. For each tile of 16 V plane positions and each block of 8 output
//                   channels, 8 x V vectors accumulate in registers over the taps in ascending order (weights
//                   repacked [channel block][tap][8]); then bias, ReLU, and a store (or an add, for the input
//                   gradient) of the valid positions.
//   weight grad:    dY copied as plane positions (zeros at the discarded ones), every image padded once; tasks of
//                   4 output channels x 6 taps accumulate 24 vectors of lane partials over a chunk of images, sum
//                   each over its lanes in ascending order and add it to dW: chunk by chunk in ascending order.
//   input gradient: the forward of dY under the flipped filter W'[c, k, r, s] = W[k, c, R-1-r, S-1-s] with padding
//                   R-1-pad, S-1-pad, added into dX.
// Each output element has one writer and a fixed order of operations: bitwise the same for any thread count.
// AVX-512, AVX2 and portable paths are one source compiled three times (engine::ActiveIsa()).
#ifndef ENGINE_KERNELS_CONV2D_PLANE_H_
#define ENGINE_KERNELS_CONV2D_PLANE_H_

#include "engine/kernels/conv2d.h"
#include "engine/tensor/views.h"

namespace engine::kernels::internal {

// Stride 1, not pointwise, more than 8 input channels (fewer go to conv2d_direct.h), padded rows of at most 64
// floats, padded images of at most 4 MB, and at least 85% of the plane positions real outputs (28x28 pad 1: 94%,
// 14x14: 87.5%; not 7x7: 49 of 64).
bool UseDirectPlaneConv2d(const Conv2dParams& cp);
// UseDirectPlaneConv2d, and pad <= R-1 and pad <= S-1 (the flipped convolution's padding is not negative), with
// the same size limits on dY's padded planes.
bool UseDirectPlaneConv2dBackwardInput(const Conv2dParams& cp);

// y := conv(w, x) (+ bias) (ReLU). FLOPs counted as Conv2dForward counts them.
void DirectPlaneConv2dForward(const Conv2dParams& cp, ConstDenseView w, ConstDenseView x, DenseView y,
                              const float* bias, bool relu);
// d_w += dY · im2col(X)ᵀ without the im2col. FLOPs counted as Conv2dBackwardWeight counts them.
void DirectPlaneConv2dBackwardWeight(const Conv2dParams& cp, ConstDenseView d_y, ConstDenseView x, DenseView d_w);
// d_x += conv_transpose(w, d_y). FLOPs counted as Conv2dBackwardInput counts them.
void DirectPlaneConv2dBackwardInput(const Conv2dParams& cp, ConstDenseView w, ConstDenseView d_y, DenseView d_x);

}  // namespace engine::kernels::internal

#endif  // ENGINE_KERNELS_CONV2D_PLANE_H_
