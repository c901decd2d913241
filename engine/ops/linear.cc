// Dense linear op: forward and backward side by side.
#include "engine/ops/linear.h"

#include "engine/base/check.h"
#include "engine/kernels/gemm.h"
#include "engine/ops/bias.h"

namespace engine {

// y = W·x + b.   dW += dy·xᵀ;  dx += Wᵀ·dy;  db += sum over the batch of dy.
Variable Linear(const Variable& x, DenseParameter& w, DenseParameter* b) {
  const Tensor& wv = w.var.value();
  ENGINE_CHECK(wv.rank() == 2, "Linear(", w.name, "): weight has shape ", wv.ShapeString(), "; expected [out, in]");
  ENGINE_CHECK(x.value().rank() == 2 && x.shape()[0] == wv.dim(1), "Linear(", w.name, "): input has shape ",
               x.value().ShapeString(), "; expected [", wv.dim(1), ", batch] (feature-major)");
  const int64_t out = wv.dim(0), batch = x.shape()[1];
  if (b != nullptr) {
    ENGINE_CHECK(b->var.value().rank() == 1 && b->var.value().dim(0) == out, "Linear(", b->name, "): bias has shape ",
                 b->var.value().ShapeString(), "; expected [", out, "]");
  }
  Tensor y({out, batch});
  kernels::Gemm(false, false, 1.0f, wv.view(), x.value().view(), 0.0f, y.view());
  if (b != nullptr) AddBiasRows(b->var.value().data(), y.view());
  std::vector<Variable> parents = {x, w.var};
  if (b != nullptr) parents.push_back(b->var);
  Variable wvar = w.var;
  Variable bvar = b != nullptr ? b->var : Variable();
  return MakeResult(std::move(y), std::move(parents), [x, wvar, bvar](const Tensor& d_y) {
    if (wvar.requires_grad()) kernels::Gemm(false, true, 1.0f, d_y.view(), x.value().view(), 1.0f, wvar.grad().view());
    if (x.requires_grad()) kernels::Gemm(true, false, 1.0f, wvar.value().view(), d_y.view(), 1.0f, x.grad().view());
    if (bvar.requires_grad()) AccumulateRowSums(d_y.view(), bvar.grad().data());
  }, w.name + ".out");
}

}  // namespace engine
