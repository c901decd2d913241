// Depthwise 2-D convolution (depth multiplier 1, MobileNet's): every channel is convolved with its own R x S
// filter. Dense, because RigL keeps depthwise layers dense (RIGL.md section 1.1). Not an autograd op: see
// engine/ops/depthwise_conv2d.h for that.
//
// Layout as conv2d.h (channel-major): X [C, N*H*W], Y [C, N*P*Q], weights W [C, R*S] row-major with column r*S + s
// (PyTorch's [C, 1, R, S] flattened). Conv2dParams.out_channels must equal in_channels.
//   Y[c, n, p, q] = sum_{r, s} W[c, r, s] * X[c, n, p*stride + r - pad, q*stride + s - pad]  (0 outside X)
//
// Each (channel, image) plane is one work item, with no im2col. The 3x3 stride-1 'same' case runs row by row on wide
// planes (nine fused taps, border columns apart) and on small planes as one vector loop over three zero-margined
// per-thread copies of the plane (whose first or last column is zeroed), as does its weight gradient; other shapes
// run per-row loops, the interior of a row in vector registers, the border columns with explicit bounds. One thread computes a whole plane (forward, input gradient) or a whole channel (weight gradient), each in
// a fixed order, so the result is bitwise the same for any thread count. The vector paths are the same C++ compiled
// for AVX-512 and AVX2 (engine::ActiveIsa()); the 3x3 stride-1 and stride-2 cases are unrolled, any other shape runs
// the same loops with run-time bounds. The work is memory-bound (9 multiply-adds per 8 bytes moved).
#ifndef ENGINE_KERNELS_DEPTHWISE_CONV2D_H_
#define ENGINE_KERNELS_DEPTHWISE_CONV2D_H_

#include "engine/kernels/conv2d.h"
#include "engine/tensor/views.h"

namespace engine::kernels {

// CheckConv2dParams, plus out_channels == in_channels. Throws engine::Error naming `context`.
void CheckDepthwiseConv2dParams(const Conv2dParams& params, const char* context);

// Y = depthwise_conv(W, X); y is overwritten. w [C, R*S], x [C, N*H*W], y [C, N*P*Q]; y must not alias x.
// FLOPs counted: 2*C*R*S*N*P*Q (taps over zero padding included, as the im2col convolution counts them).
void DepthwiseConv2dForward(const Conv2dParams& params, ConstDenseView w, ConstDenseView x, DenseView y);
// dX += depthwise_conv_transpose(W, dY): d_x [C, N*H*W] accumulated. Stride 1: a correlation of dY with the flipped
// filter (pad R-1-pad); other strides scatter each dY row into the rows of dX it came from.
void DepthwiseConv2dBackwardInput(const Conv2dParams& params, ConstDenseView w, ConstDenseView d_y, DenseView d_x);
// dW += sum over images and positions of dY * X (shifted): d_w [C, R*S] accumulated. Partial sums are float vectors
// (per plane for 3x3 'same', per row otherwise), added into a per-channel double in image (and row) order.
void DepthwiseConv2dBackwardWeight(const Conv2dParams& params, ConstDenseView d_y, ConstDenseView x, DenseView d_w);

// Reference twins: the direct loops, single-threaded, float accumulation (the weight gradient in double), same
// contracts.
void DepthwiseConv2dForwardNaive(const Conv2dParams& params, ConstDenseView w, ConstDenseView x, DenseView y);
void DepthwiseConv2dBackwardInputNaive(const Conv2dParams& params, ConstDenseView w, ConstDenseView d_y,
                                       DenseView d_x);
void DepthwiseConv2dBackwardWeightNaive(const Conv2dParams& params, ConstDenseView d_y, ConstDenseView x,
                                        DenseView d_w);

}  // namespace engine::kernels

#endif  // ENGINE_KERNELS_DEPTHWISE_CONV2D_H_
