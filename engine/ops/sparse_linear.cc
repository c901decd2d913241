// Sparse linear op: forward and backward side by side.
#include "engine/ops/sparse_linear.h"

#include <memory>

#include "engine/base/check.h"
#include "engine/kernels/gemm.h"
#include "engine/kernels/sddmm.h"
#include "engine/kernels/spmm.h"
#include "engine/kernels/spmm_transposed.h"
#include "engine/ops/bias.h"

namespace engine {

// y = W·x + b.   dx += Wᵀ·dy (transposed SpMM);  dW[p] += <dy[i, :], x[j, :]> for stored p = (i, j) (SDDMM);
// db += sum over the batch of dy;  dense dW rows [r0, r1) = dy[r0:r1, :]·xᵀ (GEMM, on demand).
Variable SparseLinear(const Variable& x, SparseParameter& w, DenseParameter* b) {
  const CsrMatrix& wm = w.weight;
  ENGINE_CHECK(x.value().rank() == 2 && x.shape()[0] == wm.cols(), "SparseLinear(", w.name, "): input has shape ",
               x.value().ShapeString(), "; expected [", wm.cols(), ", batch] (feature-major)");
  ENGINE_CHECK(static_cast<int64_t>(w.grad.size()) == wm.nnz(), "SparseLinear(", w.name, "): gradient has ",
               w.grad.size(), " entries; expected nnz = ", wm.nnz(), " (call ZeroGrad after changing the weight)");
  const int64_t out = wm.rows(), batch = x.shape()[1];
  const float* bias = nullptr;
  if (b != nullptr) {
    ENGINE_CHECK(b->var.value().rank() == 1 && b->var.value().dim(0) == out, "SparseLinear(", b->name,
                 "): bias has shape ", b->var.value().ShapeString(), "; expected [", out, "]");
    bias = b->var.value().data();
  }
  Tensor y({out, batch});
  kernels::SpmmCsr(wm.view(), x.value().view(), y.view(), bias);
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
  return MakeResult(std::move(y), std::move(parents), [x, wp, bvar, version](const Tensor& d_y) {
    const CsrMatrix& wm = wp->weight;
    ENGINE_CHECK(wm.topology_version() == version, "SparseLinear(", wp->name, ") backward: topology version ",
                 wm.topology_version(), " found; expected ", version,
                 " as at the forward (the pattern changed between forward and backward)");
    ENGINE_CHECK(static_cast<int64_t>(wp->grad.size()) == wm.nnz(), "SparseLinear(", wp->name, ") backward: gradient ",
                 "has ", wp->grad.size(), " entries; expected nnz = ", wm.nnz());
    if (x.requires_grad()) {
      kernels::SpmmCsrTransposedAccumulate(wm.view(/*with_transpose=*/true), d_y.view(), x.grad().view());
    }
    if (!wp->skip_pattern_grad) {
      kernels::SddmmCsrAccumulate(wm.view(), d_y.view(), x.value().view(), wp->grad.data());
    }
    if (bvar.requires_grad()) AccumulateRowSums(d_y.view(), bvar.grad().data());
    if (wp->want_dense_grad) {
      // Save dy (the graph frees it after this closure) and share x's value; rows are computed on request.
      auto saved_d_y = std::make_shared<Tensor>(d_y);
      Variable saved_x = x;
      const std::string name = wp->name;
      const int64_t rows = wm.rows(), cols = wm.cols();
      wp->dense_grad_rows = [saved_d_y, saved_x, name, rows, cols](int64_t row_begin, int64_t row_end, DenseView out) {
        ENGINE_CHECK(0 <= row_begin && row_begin <= row_end && row_end <= rows, "dense_grad_rows(", name, "): rows [",
                     row_begin, ", ", row_end, ") requested; expected 0 <= row_begin <= row_end <= ", rows);
        ENGINE_CHECK(out.rows == row_end - row_begin && out.cols == cols, "dense_grad_rows(", name, "): out is ",
                     out.rows, " x ", out.cols, "; expected ", row_end - row_begin, " x ", cols);
        const ConstDenseView dy = saved_d_y->view();
        const ConstDenseView dy_rows{dy.data + row_begin * dy.ld, row_end - row_begin, dy.cols, dy.ld};
        kernels::Gemm(false, true, 1.0f, dy_rows, saved_x.value().view(), 0.0f, out);
      };
    }
  }, w.name + ".out", /*extra_requires_grad=*/true);
}

}  // namespace engine
