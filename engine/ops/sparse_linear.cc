// Sparse linear op: forward and backward side by side.
#include "engine/ops/sparse_linear.h"

#include <memory>
#include <utility>

#include "engine/base/check.h"
#include "engine/kernels/bsr_spmm.h"
#include "engine/kernels/gemm.h"
#include "engine/kernels/sddmm.h"
#include "engine/kernels/spmm.h"
#include "engine/kernels/spmm_transposed.h"
#include "engine/ops/bias.h"
#include "engine/ops/layer_kernels.h"
#include "engine/ops/sparse_weight_op.h"

namespace engine {

// y = W·x + b.   dx += Wᵀ·dy (transposed SpMM);  dW[p] += <dy[i, :], x[j, :]> for stored p = (i, j) (SDDMM);
// db += sum over the batch of dy;  dense dW rows [r0, r1) = dy[r0:r1, :]·xᵀ (GEMM, on demand).
// A blocked (BSR) weight takes the BSR twins of the three kernels; everything else is shared.
Variable SparseLinear(const Variable& x, SparseParameter& w, DenseParameter* b) {
  ENGINE_CHECK(x.value().rank() == 2 && x.shape()[0] == w.cols(), "SparseLinear(", w.name, "): input has shape ",
               x.value().ShapeString(), "; expected [", w.cols(), ", batch] (feature-major)");
  SparseWeightOp op("SparseLinear", w);
  const float* bias = op.UseBias(b);
  Tensor y = Tensor::Uninitialized({w.rows(), x.shape()[1]});  // SpmmCsr / SpmmBsr overwrite it
  SparseWeightKernels backward;
  w.ran_dense = false;
  if (w.blocked()) {
    kernels::SpmmBsr(w.blocks().view(), x.value().view(), y.view(), bias);
    backward.input_grad = [](const SparseParameter& weight, const Tensor& d_y, Tensor& d_x) {
      kernels::SpmmBsrTransposedAccumulate(weight.blocks().view(/*with_transpose=*/true), d_y.view(), d_x.view());
    };
    backward.pattern_grad = [](const SparseParameter& weight, const Tensor& d_y, const Tensor& x_value,
                               float* grad) {
      kernels::SddmmBsrAccumulate(weight.blocks().view(), d_y.view(), x_value.view(), grad);
    };
  } else if ((w.ran_dense = LinearRunsDense(w.rows(), w.cols(), w.entries()))) {
    // Dense enough to run faster on sgemm (engine/ops/layer_kernels.h): a dense copy of W; the weight gradient is
    // the dense dY·xᵀ's entries on W's pattern.
    auto dense = std::make_shared<const Tensor>(w.weight().ToDense());
    kernels::Gemm(false, false, 1.0f, dense->view(), x.value().view(), 0.0f, y.view());
    if (bias != nullptr) AddBiasRows(bias, y.view());
    backward.input_grad = [dense](const SparseParameter&, const Tensor& d_y, Tensor& d_x) {
      kernels::Gemm(true, false, 1.0f, dense->view(), d_y.view(), 1.0f, d_x.view());
    };
    backward.pattern_grad = [](const SparseParameter& weight, const Tensor& d_y, const Tensor& x_value,
                               float* grad) {
      Tensor d_w = Tensor::Uninitialized({weight.rows(), weight.cols()});
      kernels::Gemm(false, true, 1.0f, d_y.view(), x_value.view(), 0.0f, d_w.view());
      AddPatternEntries(weight.weight(), d_w.view(), grad);
    };
  } else {
    kernels::SpmmCsr(w.weight().view(), x.value().view(), y.view(), bias);
    backward.input_grad = [](const SparseParameter& weight, const Tensor& d_y, Tensor& d_x) {
      kernels::SpmmCsrTransposedAccumulate(weight.weight().view(/*with_transpose=*/true), d_y.view(), d_x.view());
    };
    backward.pattern_grad = [](const SparseParameter& weight, const Tensor& d_y, const Tensor& x_value,
                               float* grad) {
      kernels::SddmmCsrAccumulate(weight.weight().view(), d_y.view(), x_value.view(), grad);
    };
  }
  backward.dense_grad_tile = [](int64_t, int64_t, ConstDenseView d_y_rows, const Tensor& x_value, DenseView out) {
    kernels::Gemm(false, true, 1.0f, d_y_rows, x_value.view(), 0.0f, out);
  };
  return op.Record(std::move(y), x, std::move(backward));
}

}  // namespace engine
