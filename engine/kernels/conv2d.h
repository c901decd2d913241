// Dense 2-D convolution kernels (the baseline the sparse ones are measured against): im2col per chunk of images
// followed by OpenBLAS sgemm, except for stride-1 layers: with at most 8 input channels (and output rows of at most
// 64) the forward and weight gradient run a direct vectorised convolution (conv2d_direct.h: im2col and sgemm's
// packing cost more than the product there); with more channels on images where most plane positions are real
// outputs, all three passes run the direct convolution over padded planes (conv2d_plane.h). Plus direct 7-loop
// Naive twins. Also the Conv2dParams shape record every conv kernel
// (dense and sparse) takes. Not an autograd op: see engine/ops/conv2d.h for that.
//
// Layout (channel-major): activations X [C, N*H*W] and Y [K, N*P*Q] row-major (channel outermost, then image, then
// space), weights W [K, C*R*S] row-major with column c*R*S + r*S + s (PyTorch's [out, in, kh, kw] flattened).
// Legend: N batch, C in-channels, K out-channels, H/W input, P/Q output, R/S filter.
//   Y[k, n, p, q] = sum_{c, r, s} W[k, c, r, s] * X[c, n, p*stride + r - pad, q*stride + s - pad]  (0 outside X)
//   P = (H + 2*pad - R) / stride + 1,  Q = (W + 2*pad - S) / stride + 1.
#ifndef ENGINE_KERNELS_CONV2D_H_
#define ENGINE_KERNELS_CONV2D_H_

#include <algorithm>
#include <cstdint>
#include <functional>

#include "engine/tensor/views.h"

namespace engine::kernels {

// The shape of one convolution. stride and pad apply to both spatial axes; the filter may be rectangular.
struct Conv2dParams {
  int64_t batch = 1;         // N
  int64_t in_channels = 1;   // C
  int64_t in_h = 1;          // H
  int64_t in_w = 1;          // W
  int64_t out_channels = 1;  // K
  int64_t kernel_h = 1;      // R
  int64_t kernel_w = 1;      // S
  int64_t stride = 1;
  int64_t pad = 0;

  int64_t out_h() const { return (in_h + 2 * pad - kernel_h) / stride + 1; }  // P
  int64_t out_w() const { return (in_w + 2 * pad - kernel_w) / stride + 1; }  // Q
  int64_t filter_size() const { return in_channels * kernel_h * kernel_w; }    // C*R*S
  bool IsPointwise() const { return kernel_h == 1 && kernel_w == 1 && stride == 1 && pad == 0; }
};

// Throws engine::Error (naming `context`) unless every size is >= 1, pad >= 0 and the padded input holds the
// filter (H + 2*pad >= R, W + 2*pad >= S). Ops call this once; kernels only DCHECK.
void CheckConv2dParams(const Conv2dParams& params, const char* context);

namespace internal {
// Indices v in [*lo, *hi) with 0 <= v*st - shift < extent, clamped to [0, count]: the output columns (or rows) whose
// input index v*st - shift falls inside the input (floor division throughout, so shift and extent may be negative).
inline void ValidRange(int64_t shift, int64_t st, int64_t extent, int64_t count, int64_t* lo, int64_t* hi) {
  auto floor_div = [](int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); };
  *lo = std::min(count, std::max<int64_t>(0, -floor_div(-shift, st)));
  *hi = std::max(*lo, std::min(count, floor_div(extent - 1 + shift, st) + 1));
}
}  // namespace internal

// Y = conv(W, X) (+ bias[k] on channel k when bias != nullptr) (then max(., 0) when relu). Y is overwritten.
// w [K, C*R*S], x [C, N*H*W], y [K, N*P*Q]; y must not alias x. im2col of at most 8 MB of images at a time, then
// one sgemm per chunk (a 1x1 stride-1 pad-0 conv is a single sgemm with no im2col). Threads: im2col rows and
// Gemm's own fixed split of the product; bitwise identical for any thread count. Allocates its im2col scratch once
// per call, outside any parallel region. FLOPs counted: 2*K*C*R*S*N*P*Q (by Gemm) (+ K*N*P*Q each for bias and ReLU).
void Conv2dForward(const Conv2dParams& params, ConstDenseView w, ConstDenseView x, DenseView y,
                   const float* bias = nullptr, bool relu = false);
// dX += conv_transpose(W, dY): d_x [C, N*H*W] accumulated. From Y = W·im2col(X): d_cols = Wᵀ·dY, then col2im
// (scatter-add, parallel over input channels so each element of d_x has one writer).
void Conv2dBackwardInput(const Conv2dParams& params, ConstDenseView w, ConstDenseView d_y, DenseView d_x);
// dW += dY · im2col(X)ᵀ: d_w [K, C*R*S] accumulated, chunk by chunk of images in a fixed order.
void Conv2dBackwardWeight(const Conv2dParams& params, ConstDenseView d_y, ConstDenseView x, DenseView d_w);

// The same im2col chunk loop with the product left to the caller, for weights in other formats (engine/ops'
// block-sparse convolution passes the BSR kernels). Each chunk of nb images is lowered to cols [C*R*S, nb*P*Q]:
//   forward:        product(cols, y_chunk) must overwrite y_chunk [K, nb*P*Q] with W·cols; bias and ReLU follow.
//   input gradient: product_t(d_y_chunk, d_cols) must overwrite d_cols [C*R*S, nb*P*Q] with Wᵀ·d_y_chunk; the
//                   driver adds it into d_x (col2im).
//   weight grad:    accumulate(d_y_chunk, cols) must add d_y_chunk·colsᵀ (restricted to the weight's pattern).
// Chunks run in ascending image order, so a deterministic product gives a deterministic result. Pointwise convs
// are lowered too (a copy); callers that care special-case them.
using LoweredProduct = std::function<void(ConstDenseView in, DenseView out)>;
using LoweredWeightGrad = std::function<void(ConstDenseView d_y_chunk, ConstDenseView cols)>;
void Conv2dForwardLowered(const Conv2dParams& params, ConstDenseView x, DenseView y, const LoweredProduct& product,
                          const float* bias = nullptr, bool relu = false);
void Conv2dBackwardInputLowered(const Conv2dParams& params, ConstDenseView d_y, DenseView d_x,
                                const LoweredProduct& product_t);
void Conv2dBackwardWeightLowered(const Conv2dParams& params, ConstDenseView d_y, ConstDenseView x,
                                 const LoweredWeightGrad& accumulate);

// Which dense kernel Conv2dForward runs for a shape: a single sgemm (pointwise), the direct few-channel convolution
// (conv2d_direct.h), the direct convolution over padded planes (conv2d_plane.h), or im2col + sgemm. The cost model
// of engine/ops/layer_kernels.h asks, to compare a sparse layer's kernels with the dense ones it would run.
enum class DenseConv2dPath { kPointwise, kDirectFewChannels, kPlanes, kLowered };
DenseConv2dPath DenseConv2dPathFor(const Conv2dParams& params);

// Reference twins: the direct 7-loop convolution, single-threaded, float accumulation, same contracts.
void Conv2dForwardNaive(const Conv2dParams& params, ConstDenseView w, ConstDenseView x, DenseView y,
                        const float* bias = nullptr, bool relu = false);
void Conv2dBackwardInputNaive(const Conv2dParams& params, ConstDenseView w, ConstDenseView d_y, DenseView d_x);
void Conv2dBackwardWeightNaive(const Conv2dParams& params, ConstDenseView d_y, ConstDenseView x, DenseView d_w);

}  // namespace engine::kernels

#endif  // ENGINE_KERNELS_CONV2D_H_
