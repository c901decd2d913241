// Depthwise conv op: forward and backward side by side.
#include "engine/ops/depthwise_conv2d.h"

#include "engine/base/check.h"
#include "engine/kernels/depthwise_conv2d.h"

namespace engine {

// y = depthwise_conv(W, x).  dx += depthwise_conv_transpose(W, dy);  dW += sum over n, p, q of dy * shifted x.
Variable DepthwiseConv2d(const Variable& x, DenseParameter& w, int64_t stride, int64_t pad) {
  const Tensor& wv = w.var.value();
  ENGINE_CHECK(wv.rank() == 4 && wv.dim(1) == 1, "DepthwiseConv2d(", w.name, "): weight has shape ",
               wv.ShapeString(), "; expected [channels, 1, kernel_h, kernel_w]");
  ENGINE_CHECK(x.value().rank() == 4 && x.shape()[0] == wv.dim(0), "DepthwiseConv2d(", w.name,
               "): input has shape ", x.value().ShapeString(), "; expected [", wv.dim(0),
               ", batch, height, width] (channel-major)");
  kernels::Conv2dParams cp;
  cp.in_channels = cp.out_channels = x.shape()[0], cp.batch = x.shape()[1], cp.in_h = x.shape()[2];
  cp.in_w = x.shape()[3], cp.kernel_h = wv.dim(2), cp.kernel_w = wv.dim(3), cp.stride = stride, cp.pad = pad;
  kernels::CheckDepthwiseConv2dParams(cp, ("DepthwiseConv2d(" + w.name + ")").c_str());
  Tensor y({cp.in_channels, cp.batch, cp.out_h(), cp.out_w()});
  kernels::DepthwiseConv2dForward(cp, wv.view(), x.value().view(), y.view());
  Variable wvar = w.var;
  return MakeResult(std::move(y), {x, wvar}, [x, wvar, cp](const Tensor& d_y) {
    if (x.requires_grad()) {
      kernels::DepthwiseConv2dBackwardInput(cp, wvar.value().view(), d_y.view(), x.grad().view());
    }
    if (wvar.requires_grad()) {
      kernels::DepthwiseConv2dBackwardWeight(cp, d_y.view(), x.value().view(), wvar.grad().view());
    }
  }, w.name + ".out");
}

}  // namespace engine
