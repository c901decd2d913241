// Sparse conv op: forward and backward side by side.
#include "engine/ops/sparse_conv2d.h"

#include <algorithm>
#include <string>
#include <utility>

#include "engine/base/check.h"
#include "engine/kernels/conv2d.h"
#include "engine/kernels/sparse_conv2d.h"
#include "engine/ops/sparse_weight_op.h"

namespace engine {

// y = conv(W, x) + b.  dx += Σ shifted Wᵀ·dy (transposed index);  dW[p] += Σ_{n,p',q} dy[k,n,p',q]·x[c,n,shifted]
// at stored p = (k; c, r, s);  db += Σ dy;  dense dW rows [r0, r1) = dy[r0:r1]·im2col(x)ᵀ (on demand, per tile).
Variable SparseConv2d(const Variable& x, SparseParameter& w, DenseParameter* b, int64_t kernel_h, int64_t kernel_w,
                      int64_t stride, int64_t pad) {
  ENGINE_CHECK(!w.blocked(), "SparseConv2d(", w.name, "): the weight is stored in ", w.block_rows(), "x",
               w.block_cols(), " blocks; expected CSR (block-sparse convolutions are not supported)");
  const CsrMatrix& wm = w.weight();
  ENGINE_CHECK(kernel_h >= 1 && kernel_w >= 1, "SparseConv2d(", w.name, "): kernel ", kernel_h, "x", kernel_w,
               " given; expected both >= 1");
  ENGINE_CHECK(wm.cols() % (kernel_h * kernel_w) == 0, "SparseConv2d(", w.name, "): weight has ", wm.cols(),
               " columns; expected a multiple of kernel_h * kernel_w = ", kernel_h * kernel_w);
  const int64_t in_channels = wm.cols() / (kernel_h * kernel_w);
  ENGINE_CHECK(x.value().rank() == 4 && x.shape()[0] == in_channels, "SparseConv2d(", w.name, "): input has shape ",
               x.value().ShapeString(), "; expected [", in_channels, ", batch, height, width] (channel-major)");
  SparseWeightOp op("SparseConv2d", w);
  kernels::Conv2dParams cp;
  cp.in_channels = in_channels, cp.batch = x.shape()[1], cp.in_h = x.shape()[2], cp.in_w = x.shape()[3];
  cp.out_channels = wm.rows(), cp.kernel_h = kernel_h, cp.kernel_w = kernel_w, cp.stride = stride, cp.pad = pad;
  kernels::CheckConv2dParams(cp, ("SparseConv2d(" + w.name + ")").c_str());
  const float* bias = op.UseBias(b);
  Tensor y({cp.out_channels, cp.batch, cp.out_h(), cp.out_w()});
  kernels::SparseConv2dForward(cp, wm.view(), x.value().view(), y.view(), bias);

  SparseWeightKernels backward;
  backward.input_grad = [cp](const SparseParameter& weight, const Tensor& d_y, Tensor& d_x) {
    kernels::SparseConv2dBackwardInput(cp, weight.weight().view(/*with_transpose=*/true), d_y.view(), d_x.view());
  };
  backward.pattern_grad = [cp](const SparseParameter& weight, const Tensor& d_y, const Tensor& x_value,
                               float* grad) {
    kernels::SparseConv2dBackwardWeight(cp, weight.weight().view(), d_y.view(), x_value.view(), grad);
  };
  // Each tile is one dense weight-gradient kernel call over output channels [row_begin, row_end).
  backward.dense_grad_tile = [cp](int64_t row_begin, int64_t row_end, ConstDenseView d_y_rows,
                                  const Tensor& x_value, DenseView out) {
    if (row_end == row_begin) return;
    for (int64_t i = 0; i < out.rows; ++i) std::fill(out.row(i), out.row(i) + out.cols, 0.0f);
    kernels::Conv2dParams tile = cp;
    tile.out_channels = row_end - row_begin;
    kernels::Conv2dBackwardWeight(tile, d_y_rows, x_value.view(), out);
  };
  return op.Record(std::move(y), x, std::move(backward));
}

}  // namespace engine
