// Dense conv op: forward and backward side by side.
#include "engine/ops/conv2d.h"

#include "engine/base/check.h"
#include "engine/kernels/conv2d.h"
#include "engine/ops/bias.h"

namespace engine {

// y = conv(W, x) + b.  dx += conv_transpose(W, dy) (d_cols = Wᵀ·dy, col2im);  dW += dy·im2col(x)ᵀ;
// db += sum of dy over n, p, q.
Variable Conv2d(const Variable& x, DenseParameter& w, DenseParameter* b, int64_t stride, int64_t pad) {
  const Tensor& wv = w.var.value();
  ENGINE_CHECK(wv.rank() == 4, "Conv2d(", w.name, "): weight has shape ", wv.ShapeString(),
               "; expected [out_channels, in_channels, kernel_h, kernel_w]");
  ENGINE_CHECK(x.value().rank() == 4 && x.shape()[0] == wv.dim(1), "Conv2d(", w.name, "): input has shape ",
               x.value().ShapeString(), "; expected [", wv.dim(1), ", batch, height, width] (channel-major)");
  kernels::Conv2dParams cp;
  cp.in_channels = x.shape()[0], cp.batch = x.shape()[1], cp.in_h = x.shape()[2], cp.in_w = x.shape()[3];
  cp.out_channels = wv.dim(0), cp.kernel_h = wv.dim(2), cp.kernel_w = wv.dim(3), cp.stride = stride, cp.pad = pad;
  kernels::CheckConv2dParams(cp, ("Conv2d(" + w.name + ")").c_str());
  const float* bias = nullptr;
  if (b != nullptr) {
    ENGINE_CHECK(b->var.value().rank() == 1 && b->var.value().dim(0) == cp.out_channels, "Conv2d(", b->name,
                 "): bias has shape ", b->var.value().ShapeString(), "; expected [", cp.out_channels, "]");
    bias = b->var.value().data();
  }
  Tensor y = Tensor::Uninitialized({cp.out_channels, cp.batch, cp.out_h(), cp.out_w()});  // overwritten
  kernels::Conv2dForward(cp, wv.view(), x.value().view(), y.view(), bias);

  std::vector<Variable> parents = {x, w.var};
  Variable bvar;
  if (b != nullptr) {
    bvar = b->var;
    parents.push_back(bvar);
  }
  Variable wvar = w.var;
  return MakeResult(std::move(y), std::move(parents), [x, wvar, bvar, cp](const Tensor& d_y) {
    if (x.requires_grad()) kernels::Conv2dBackwardInput(cp, wvar.value().view(), d_y.view(), x.grad().view());
    if (wvar.requires_grad()) kernels::Conv2dBackwardWeight(cp, d_y.view(), x.value().view(), wvar.grad().view());
    if (bvar.requires_grad()) AccumulateRowSums(d_y.view(), bvar.grad().data());
  }, w.name + ".out");
}

}  // namespace engine
