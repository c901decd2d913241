// Sparse conv op: forward and backward side by side.
#include "engine/ops/sparse_conv2d.h"

#include <algorithm>
#include <memory>
#include <string>

#include "engine/base/check.h"
#include "engine/kernels/conv2d.h"
#include "engine/kernels/sparse_conv2d.h"
#include "engine/ops/bias.h"

namespace engine {

// y = conv(W, x) + b.  dx += Σ shifted Wᵀ·dy (transposed index);  dW[p] += Σ_{n,p',q} dy[k,n,p',q]·x[c,n,shifted]
// at stored p = (k; c, r, s);  db += Σ dy;  dense dW rows [r0, r1) = dy[r0:r1]·im2col(x)ᵀ (on demand, per tile).
Variable SparseConv2d(const Variable& x, SparseParameter& w, DenseParameter* b, int64_t kernel_h, int64_t kernel_w,
                      int64_t stride, int64_t pad) {
  const CsrMatrix& wm = w.weight;
  ENGINE_CHECK(kernel_h >= 1 && kernel_w >= 1, "SparseConv2d(", w.name, "): kernel ", kernel_h, "x", kernel_w,
               " given; expected both >= 1");
  ENGINE_CHECK(wm.cols() % (kernel_h * kernel_w) == 0, "SparseConv2d(", w.name, "): weight has ", wm.cols(),
               " columns; expected a multiple of kernel_h * kernel_w = ", kernel_h * kernel_w);
  const int64_t in_channels = wm.cols() / (kernel_h * kernel_w);
  ENGINE_CHECK(x.value().rank() == 4 && x.shape()[0] == in_channels, "SparseConv2d(", w.name, "): input has shape ",
               x.value().ShapeString(), "; expected [", in_channels, ", batch, height, width] (channel-major)");
  ENGINE_CHECK(static_cast<int64_t>(w.grad.size()) == wm.nnz(), "SparseConv2d(", w.name, "): gradient has ",
               w.grad.size(), " entries; expected nnz = ", wm.nnz(), " (call ZeroGrad after changing the weight)");
  kernels::Conv2dParams cp;
  cp.in_channels = in_channels, cp.batch = x.shape()[1], cp.in_h = x.shape()[2], cp.in_w = x.shape()[3];
  cp.out_channels = wm.rows(), cp.kernel_h = kernel_h, cp.kernel_w = kernel_w, cp.stride = stride, cp.pad = pad;
  kernels::CheckConv2dParams(cp, ("SparseConv2d(" + w.name + ")").c_str());
  const float* bias = nullptr;
  if (b != nullptr) {
    ENGINE_CHECK(b->var.value().rank() == 1 && b->var.value().dim(0) == cp.out_channels, "SparseConv2d(", b->name,
                 "): bias has shape ", b->var.value().ShapeString(), "; expected [", cp.out_channels, "]");
    bias = b->var.value().data();
  }
  Tensor y({cp.out_channels, cp.batch, cp.out_h(), cp.out_w()});
  kernels::SparseConv2dForward(cp, wm.view(), x.value().view(), y.view(), bias);
  // A dense-gradient accessor from an earlier step must not outlive that step's activations.
  w.dense_grad_rows = nullptr;

  std::vector<Variable> parents = {x};
  Variable bvar;
  if (b != nullptr) {
    bvar = b->var;
    parents.push_back(bvar);
  }
  SparseParameter* wp = &w;
  const uint64_t version = wm.topology_version();
  return MakeResult(std::move(y), std::move(parents), [x, wp, bvar, version, cp](const Tensor& d_y) {
    const CsrMatrix& wm = wp->weight;
    ENGINE_CHECK(wm.topology_version() == version, "SparseConv2d(", wp->name, ") backward: topology version ",
                 wm.topology_version(), " found; expected ", version,
                 " as at the forward (the pattern changed between forward and backward)");
    ENGINE_CHECK(static_cast<int64_t>(wp->grad.size()) == wm.nnz(), "SparseConv2d(", wp->name,
                 ") backward: gradient has ", wp->grad.size(), " entries; expected nnz = ", wm.nnz());
    if (x.requires_grad()) {
      kernels::SparseConv2dBackwardInput(cp, wm.view(/*with_transpose=*/true), d_y.view(), x.grad().view());
    }
    if (!wp->skip_pattern_grad) {
      kernels::SparseConv2dBackwardWeight(cp, wm.view(), d_y.view(), x.value().view(), wp->grad.data());
    }
    if (bvar.requires_grad()) AccumulateRowSums(d_y.view(), bvar.grad().data());
    if (wp->want_dense_grad) {
      // Save dy (the graph frees it after this closure) and share x's value; each tile is one dense
      // weight-gradient kernel call over output channels [row_begin, row_end).
      auto saved_d_y = std::make_shared<Tensor>(d_y);
      Variable saved_x = x;
      const std::string name = wp->name;
      wp->dense_grad_rows = [saved_d_y, saved_x, name, cp](int64_t row_begin, int64_t row_end, DenseView out) {
        const int64_t rows = cp.out_channels, cols = cp.filter_size();
        ENGINE_CHECK(0 <= row_begin && row_begin <= row_end && row_end <= rows, "dense_grad_rows(", name,
                     "): rows [", row_begin, ", ", row_end, ") requested; expected 0 <= row_begin <= row_end <= ",
                     rows);
        ENGINE_CHECK(out.rows == row_end - row_begin && out.cols == cols, "dense_grad_rows(", name, "): out is ",
                     out.rows, " x ", out.cols, "; expected ", row_end - row_begin, " x ", cols);
        if (row_end == row_begin) return;
        for (int64_t i = 0; i < out.rows; ++i) std::fill(out.row(i), out.row(i) + cols, 0.0f);
        kernels::Conv2dParams tile = cp;
        tile.out_channels = row_end - row_begin;
        const ConstDenseView dy = saved_d_y->view();
        const ConstDenseView dy_rows{dy.data + row_begin * dy.ld, tile.out_channels, dy.cols, dy.ld};
        kernels::Conv2dBackwardWeight(tile, dy_rows, saved_x.value().view(), out);
      };
    }
  }, w.name + ".out", /*extra_requires_grad=*/true);
}

}  // namespace engine
