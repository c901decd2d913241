// Sparse conv op: forward and backward side by side.
#include "engine/ops/sparse_conv2d.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "engine/base/check.h"
#include "engine/kernels/bsr_spmm.h"
#include "engine/kernels/conv2d.h"
#include "engine/kernels/sparse_conv2d.h"
#include "engine/ops/layer_kernels.h"
#include "engine/ops/sparse_weight_op.h"

namespace engine {
namespace {

// A CSR filter bank: our direct kernels (no im2col of the batch).
void CsrConv2d(const kernels::Conv2dParams& cp, const SparseParameter& w, const Tensor& x, Tensor& y,
               const float* bias, SparseWeightKernels* backward) {
  kernels::SparseConv2dForward(cp, w.weight().view(), x.view(), y.view(), bias);
  backward->input_grad = [cp](const SparseParameter& weight, const Tensor& d_y, Tensor& d_x) {
    kernels::SparseConv2dBackwardInput(cp, weight.weight().view(/*with_transpose=*/true), d_y.view(), d_x.view());
  };
  backward->pattern_grad = [cp](const SparseParameter& weight, const Tensor& d_y, const Tensor& x_value,
                                float* grad) {
    kernels::SparseConv2dBackwardWeight(cp, weight.weight().view(), d_y.view(), x_value.view(), grad);
  };
}

// A CSR filter bank dense enough to run faster on the dense kernels (engine/ops/layer_kernels.h): the dense
// convolution on a dense copy of W; its weight gradient is the dense one's entries on W's pattern.
void DenseCsrConv2d(const kernels::Conv2dParams& cp, const SparseParameter& w, const Tensor& x, Tensor& y,
                    const float* bias, SparseWeightKernels* backward) {
  auto dense = std::make_shared<const Tensor>(w.weight().ToDense());
  kernels::Conv2dForward(cp, dense->view(), x.view(), y.view(), bias);
  backward->input_grad = [cp, dense](const SparseParameter&, const Tensor& d_y, Tensor& d_x) {
    kernels::Conv2dBackwardInput(cp, dense->view(), d_y.view(), d_x.view());
  };
  backward->pattern_grad = [cp](const SparseParameter& weight, const Tensor& d_y, const Tensor& x_value,
                                float* grad) {
    Tensor d_w({cp.out_channels, cp.filter_size()});
    kernels::Conv2dBackwardWeight(cp, d_y.view(), x_value.view(), d_w.view());
    AddPatternEntries(weight.weight(), d_w.view(), grad);
  };
}

// A BSR filter bank [K, C*R*S] (blocks over output channels x filter taps): im2col chunks through the BSR kernels;
// a pointwise conv needs no im2col, the kernels run on x itself.
void BlockedConv2d(const kernels::Conv2dParams& cp, const SparseParameter& w, const Tensor& x, Tensor& y,
                   const float* bias, SparseWeightKernels* backward) {
  const BsrView v = w.blocks().view();
  if (cp.IsPointwise()) {
    kernels::SpmmBsr(v, x.view(), y.view(), bias);
  } else {
    kernels::Conv2dForwardLowered(
        cp, x.view(), y.view(), [&v](ConstDenseView cols, DenseView out) { kernels::SpmmBsr(v, cols, out); }, bias);
  }
  backward->input_grad = [cp](const SparseParameter& weight, const Tensor& d_y, Tensor& d_x) {
    const BsrView vt = weight.blocks().view(/*with_transpose=*/true);
    if (cp.IsPointwise()) return kernels::SpmmBsrTransposedAccumulate(vt, d_y.view(), d_x.view());
    kernels::Conv2dBackwardInputLowered(cp, d_y.view(), d_x.view(), [&vt](ConstDenseView dy, DenseView d_cols) {
      kernels::SpmmBsrTransposed(vt, dy, d_cols);
    });
  };
  backward->pattern_grad = [cp](const SparseParameter& weight, const Tensor& d_y, const Tensor& x_value,
                                float* grad) {
    const BsrView pattern = weight.blocks().view();
    if (cp.IsPointwise()) return kernels::SddmmBsrAccumulate(pattern, d_y.view(), x_value.view(), grad);
    kernels::Conv2dBackwardWeightLowered(cp, d_y.view(), x_value.view(),
                                         [&pattern, grad](ConstDenseView dy, ConstDenseView cols) {
                                           kernels::SddmmBsrAccumulate(pattern, dy, cols, grad);
                                         });
  };
}

}  // namespace

// y = conv(W, x) + b.  dx += Σ shifted Wᵀ·dy (transposed index);  dW[p] += Σ_{n,p',q} dy[k,n,p',q]·x[c,n,shifted]
// at stored p = (k; c, r, s);  db += Σ dy;  dense dW rows [r0, r1) = dy[r0:r1]·im2col(x)ᵀ (on demand, per tile).
// A blocked (BSR) W computes the same through im2col chunks and the BSR kernels.
Variable SparseConv2d(const Variable& x, SparseParameter& w, DenseParameter* b, int64_t kernel_h, int64_t kernel_w,
                      int64_t stride, int64_t pad) {
  ENGINE_CHECK(kernel_h >= 1 && kernel_w >= 1, "SparseConv2d(", w.name, "): kernel ", kernel_h, "x", kernel_w,
               " given; expected both >= 1");
  ENGINE_CHECK(w.cols() % (kernel_h * kernel_w) == 0, "SparseConv2d(", w.name, "): weight has ", w.cols(),
               " columns; expected a multiple of kernel_h * kernel_w = ", kernel_h * kernel_w);
  const int64_t in_channels = w.cols() / (kernel_h * kernel_w);
  ENGINE_CHECK(x.value().rank() == 4 && x.shape()[0] == in_channels, "SparseConv2d(", w.name, "): input has shape ",
               x.value().ShapeString(), "; expected [", in_channels, ", batch, height, width] (channel-major)");
  SparseWeightOp op("SparseConv2d", w);
  kernels::Conv2dParams cp;
  cp.in_channels = in_channels, cp.batch = x.shape()[1], cp.in_h = x.shape()[2], cp.in_w = x.shape()[3];
  cp.out_channels = w.rows(), cp.kernel_h = kernel_h, cp.kernel_w = kernel_w, cp.stride = stride, cp.pad = pad;
  kernels::CheckConv2dParams(cp, ("SparseConv2d(" + w.name + ")").c_str());
  const float* bias = op.UseBias(b);
  // The kernels (CSR and BSR, pointwise or not) overwrite y whole.
  Tensor y = Tensor::Uninitialized({cp.out_channels, cp.batch, cp.out_h(), cp.out_w()});
  SparseWeightKernels backward;
  w.ran_dense = !w.blocked() && ConvRunsDense(cp, w.entries());
  if (w.blocked()) {
    BlockedConv2d(cp, w, x.value(), y, bias, &backward);
  } else if (w.ran_dense) {
    DenseCsrConv2d(cp, w, x.value(), y, bias, &backward);
  } else {
    CsrConv2d(cp, w, x.value(), y, bias, &backward);
  }
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
