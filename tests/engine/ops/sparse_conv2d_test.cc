// SparseConv2d op: forward vs the double direct-convolution oracle on the densified weight, input/weight/bias
// gradients vs central differences (the weight only on its pattern), dense_grad_rows tiles vs the oracle's dense
// weight gradient, the topology-version check and input validation.
#include "engine/ops/sparse_conv2d.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/autograd/gradcheck.h"
#include "engine/base/check.h"
#include "engine/sparse/topology_edit.h"
#include "tests/engine/kernels/conv2d_cases.h"
#include "tests/testutil/testutil.h"

namespace engine {
namespace {

using testutil::ConvCase;

const ConvCase kCases[] = {
    {2, 2, 5, 5, 3, 3, 3, 1, 1, 0.5, "3x3 pad 1 (same), half the filter taps stored"},
    {2, 2, 6, 5, 3, 3, 3, 2, 1, 0.5, "stride 2 on a rectangular image (phase planes, direct input gradient)"},
    {2, 3, 4, 4, 2, 1, 1, 1, 0, 0.6, "pointwise: the SpMM / transposed SpMM / SDDMM path"},
    {2, 1, 7, 7, 2, 5, 5, 1, 2, 0.3, "5x5 pad 2, one input channel (LeNet conv1 in miniature)"},
    {2, 2, 5, 5, 3, 3, 3, 1, 1, 0.0, "no nonzeros: output is the bias"},
};

class SparseConv2dOpTest : public ::testing::TestWithParam<ConvCase> {
 protected:
  void SetUp() override {
    const ConvCase& c = GetParam();
    cp_ = c.params();
    Rng rng(21);
    w_ = std::make_unique<SparseParameter>("layer.conv.weight",
                                               testutil::RandomCsr(c.k, c.c * c.r * c.s, c.density, rng));
    b_ = DenseParameter("layer.conv.bias", testutil::RandomDense({c.k}, rng));
    x_ = Leaf(testutil::RandomDense({c.c, c.n, c.h, c.w}, rng), "x");
  }
  Variable Run() { return SparseConv2d(x_, *w_, &b_, cp_.kernel_h, cp_.kernel_w, cp_.stride, cp_.pad); }

  kernels::Conv2dParams cp_;
  std::unique_ptr<SparseParameter> w_;  // made in SetUp (a parameter is not assignable)
  DenseParameter b_;
  Variable x_;
};

TEST_P(SparseConv2dOpTest, ForwardMatchesDoubleOracle) {
  const Variable y = Run();
  ASSERT_EQ(y.shape(), (std::vector<int64_t>{cp_.out_channels, cp_.batch, cp_.out_h(), cp_.out_w()}));
  std::vector<double> expected = testutil::ConvForwardF64(cp_, w_->weight().ToDense(), x_.value());
  const int64_t per_channel = static_cast<int64_t>(expected.size()) / cp_.out_channels;
  for (size_t i = 0; i < expected.size(); ++i) expected[i] += b_.var.value()[static_cast<int64_t>(i) / per_channel];
  const std::vector<float> got(y.value().data(), y.value().data() + y.value().size());
  EXPECT_TRUE(testutil::AllClose(got, expected, 1e-5)) << GetParam().why;
}

TEST_P(SparseConv2dOpTest, GradientsMatchFiniteDifferences) {
  GradCheckInput w_input{"layer.conv.weight.values", w_->mutable_values().data(), w_->weight().nnz(),
                         [this]() -> const float* { return w_->grad.data(); }};
  const GradCheckReport r = GradCheck([this] { return Run(); }, {LeafInput(x_), w_input, LeafInput(b_.var)});
  EXPECT_TRUE(r.ok) << GetParam().why << ": " << r.first_failure;
  EXPECT_EQ(r.checked, x_.value().size() + w_->weight().nnz() + cp_.out_channels);
}

TEST_P(SparseConv2dOpTest, DenseGradRowsTilesEqualTheDenseWeightGradient) {
  w_->want_dense_grad = true;
  Rng rng(22);
  const Variable y = Run();
  const Tensor d_y = testutil::RandomDense(y.shape(), rng);
  Backward(y, d_y);
  ASSERT_TRUE(static_cast<bool>(w_->dense_grad_rows));
  const std::vector<double> expected = testutil::ConvBackwardWeightF64(cp_, d_y, x_.value());
  const int64_t rows = cp_.out_channels, cols = cp_.filter_size();
  // Row tiles of 2 (the last one ragged) reassemble the whole dense gradient; garbage in `dense` is overwritten.
  Tensor dense({rows, cols});
  dense.Fill(7.0f);
  for (int64_t r0 = 0; r0 < rows; r0 += 2) {
    const int64_t r1 = std::min(rows, r0 + 2);
    w_->dense_grad_rows(r0, r1, DenseView{dense.data() + r0 * cols, r1 - r0, cols, cols});
  }
  const std::vector<float> got(dense.data(), dense.data() + dense.size());
  EXPECT_TRUE(testutil::AllClose(got, expected, 1e-4)) << GetParam().why;
  // On the pattern, the sparse gradient holds the same numbers.
  for (int64_t k = 0; k < rows; ++k) {
    for (int64_t p = w_->weight().row_offsets()[k]; p < w_->weight().row_offsets()[k + 1]; ++p) {
      EXPECT_NEAR(w_->grad[p], expected[k * cols + w_->weight().col_indices()[p]], 1e-4) << "position " << p;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, SparseConv2dOpTest, ::testing::ValuesIn(kCases));

TEST(SparseConv2dOp, NoDenseGradUnlessRequested) {
  Rng rng(23);
  SparseParameter w("conv.weight", testutil::RandomCsr(2, 2 * 9, 0.5, rng));
  const Variable x = Constant(testutil::RandomDense({2, 1, 4, 4}, rng));
  Backward(SparseConv2d(x, w, nullptr, 3, 3, 1, 1), testutil::RandomDense({2, 1, 4, 4}, rng));
  EXPECT_FALSE(static_cast<bool>(w.dense_grad_rows));
}

TEST(SparseConv2dOp, TopologyChangeBetweenForwardAndBackwardIsAnError) {
  Rng rng(24);
  SparseParameter w("layer1.conv.weight", testutil::RandomCsr(2, 2 * 9, 0.5, rng));
  const Variable x = Constant(testutil::RandomDense({2, 1, 4, 4}, rng));
  const Variable y = SparseConv2d(x, w, nullptr, 3, 3, 1, 1);
  // Move one stored entry of row 0 to a free column of row 0.
  int32_t free_col = 0;
  while (w.weight().Find(0, free_col) >= 0) ++free_col;
  PositionMap map;
  TopologyEdit::Apply(w, {w.weight().row_offsets()[0]}, {GrowCoord{0, free_col}}, &map);
  try {
    Backward(y, testutil::RandomDense({2, 1, 4, 4}, rng));
    FAIL() << "expected a topology-version error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("layer1.conv.weight"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("topology"), std::string::npos) << e.what();
  }
}

TEST(SparseConv2dOp, WrongInputChannelsNameTheParameter) {
  SparseParameter w("layer2.conv.weight", CsrMatrix(4, 3 * 9));
  const Variable x = Constant(Tensor({2, 1, 5, 5}));  // 2 channels; the weight expects 3
  try {
    SparseConv2d(x, w, nullptr, 3, 3, 1, 1);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("layer2.conv.weight"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[3, batch, height, width]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(SparseConv2d(Constant(Tensor({3, 1, 5, 5})), w, nullptr, 3, 3, 0, 1), Error);  // stride 0
  EXPECT_THROW(SparseConv2d(Constant(Tensor({3, 1, 5, 5})), w, nullptr, 2, 2, 1, 1), Error);  // 27 % 4 != 0
}

}  // namespace
}  // namespace engine
