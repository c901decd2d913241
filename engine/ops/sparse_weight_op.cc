// See sparse_weight_op.h: checks, parents, topology-version guard and the dense-gradient accessor shared by the
// sparse-weight ops.
#include "engine/ops/sparse_weight_op.h"

#include <memory>
#include <utility>
#include <vector>

#include "engine/base/check.h"
#include "engine/ops/bias.h"

namespace engine {

void AddPatternEntries(const CsrMatrix& w, ConstDenseView dense_grad, float* grad) {
  const int64_t* offsets = w.row_offsets().data();
  const int32_t* col = w.col_indices().data();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < w.rows(); ++i) {
    const float* row = dense_grad.row(i);
    for (int64_t p = offsets[i]; p < offsets[i + 1]; ++p) grad[p] += row[col[p]];
  }
}

SparseWeightOp::SparseWeightOp(std::string op_name, SparseParameter& w) : op_name_(std::move(op_name)), w_(&w) {
  ENGINE_CHECK(static_cast<int64_t>(w.grad.size()) == w.stored(), op_name_, "(", w.name, "): gradient has ",
               w.grad.size(), " entries; expected the stored count ", w.stored(),
               " (call ZeroGrad after changing the weight)");
}

const float* SparseWeightOp::UseBias(DenseParameter* b) {
  b_ = b;
  if (b == nullptr) return nullptr;
  const int64_t out = w_->rows();
  ENGINE_CHECK(b->var.value().rank() == 1 && b->var.value().dim(0) == out, op_name_, "(", b->name,
               "): bias has shape ", b->var.value().ShapeString(), "; expected [", out, "]");
  return b->var.value().data();
}

void CheckTopologyUnchanged(const std::string& op, const SparseParameter& w, uint64_t version) {
  ENGINE_CHECK(w.topology_version() == version, op, "(", w.name, ") backward: topology version ",
               w.topology_version(), " found; expected ", version,
               " as at the forward (the pattern changed between forward and backward)");
  ENGINE_CHECK(static_cast<int64_t>(w.grad.size()) == w.stored(), op, "(", w.name, ") backward: gradient has ",
               w.grad.size(), " entries; expected the stored count ", w.stored());
}

void InstallDenseGradRows(SparseParameter* w, std::shared_ptr<const Tensor> d_y, DenseGradTile tile) {
  const std::string name = w->name;
  const int64_t rows = w->rows(), cols = w->cols();
  w->dense_grad_rows = [d_y = std::move(d_y), name, rows, cols, tile = std::move(tile)](int64_t row_begin,
                                                                                        int64_t row_end, DenseView out) {
    ENGINE_CHECK(0 <= row_begin && row_begin <= row_end && row_end <= rows, "dense_grad_rows(", name, "): rows [",
                 row_begin, ", ", row_end, ") requested; expected 0 <= row_begin <= row_end <= ", rows);
    ENGINE_CHECK(out.rows == row_end - row_begin && out.cols == cols, "dense_grad_rows(", name, "): out is ",
                 out.rows, " x ", out.cols, "; expected ", row_end - row_begin, " x ", cols);
    const ConstDenseView dy = d_y->view();
    tile(row_begin, row_end, {dy.data + row_begin * dy.ld, row_end - row_begin, dy.cols, dy.ld}, out);
  };
}

Variable SparseWeightOp::Record(Tensor y, const Variable& x, SparseWeightKernels kernels) {
  SparseParameter* wp = w_;
  wp->dense_grad_rows = nullptr;
  std::vector<Variable> parents = {x};
  Variable bvar;
  if (b_ != nullptr) {
    bvar = b_->var;
    parents.push_back(bvar);
  }
  const uint64_t version = wp->topology_version();
  const std::string op = op_name_;
  auto backward = [op, x, wp, bvar, version, kernels = std::move(kernels)](const Tensor& d_y) {
    CheckTopologyUnchanged(op, *wp, version);
    const SparseParameter& wm = *wp;
    if (x.requires_grad()) kernels.input_grad(wm, d_y, x.grad());
    if (!wp->skip_pattern_grad) kernels.pattern_grad(wm, d_y, x.value(), wp->grad.data());
    if (bvar.requires_grad()) AccumulateRowSums(d_y.view(), bvar.grad().data());
    if (!wp->want_dense_grad) return;
    // Save d_y (the graph frees it after this closure) and share x's value; tiles are computed on request.
    Variable saved_x = x;
    InstallDenseGradRows(wp, std::make_shared<const Tensor>(d_y),
                         [saved_x, tile = kernels.dense_grad_tile](int64_t row_begin, int64_t row_end,
                                                                   ConstDenseView dy_rows, DenseView out) {
                           tile(row_begin, row_end, dy_rows, saved_x.value(), out);
                         });
  };
  return MakeResult(std::move(y), std::move(parents), std::move(backward), wp->name + ".out",
                    /*extra_requires_grad=*/true);
}

}  // namespace engine
