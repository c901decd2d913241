// SparseConv2d op, with a CSR and with blocked (BSR) filter banks: forward vs the double direct-convolution oracle on
// the densified weight, input/weight/bias gradients vs central differences (the weight only on its stored floats; a
// block's padding must get a zero gradient), dense_grad_rows tiles vs the oracle's dense weight gradient, 1 vs 2
// threads bit-identical, the topology-version check and input validation.
#include "engine/ops/sparse_conv2d.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "engine/autograd/gradcheck.h"
#include "engine/base/check.h"
#include "engine/base/parallel.h"
#include "engine/ops/layer_kernels.h"
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
    {2, 4, 6, 6, 64, 3, 3, 1, 1, 0.3, "64 output channels: enough (block) rows that both threads get work"},
};

// A filter bank's storage: CSR (1x1) or BSR blocks over output channels x filter taps.
struct Block {
  int64_t rows, cols;
};

// Each case on the sparse kernels and on the dense path (a dense copy of the weight; engine/ops/layer_kernels.h).
// BSR filter banks ignore the choice.
class SparseConv2dOpTest : public ::testing::TestWithParam<std::tuple<ConvCase, Block, LayerKernels>> {
 protected:
  void TearDown() override { SetLayerKernels(LayerKernels::kAuto); }
  void SetUp() override {
    SetLayerKernels(std::get<2>(GetParam()));
    const ConvCase& c = Case();
    const Block block = std::get<1>(GetParam());
    cp_ = c.params();
    Rng rng(21);
    const int64_t taps = c.c * c.r * c.s;
    w_ = block.rows * block.cols == 1
             ? std::make_unique<SparseParameter>("layer.conv.weight", testutil::RandomCsr(c.k, taps, c.density, rng))
             : std::make_unique<SparseParameter>(
                   "layer.conv.weight", testutil::RandomBsr(c.k, taps, block.rows, block.cols, c.density, rng));
    b_ = DenseParameter("layer.conv.bias", testutil::RandomDense({c.k}, rng));
    x_ = Leaf(testutil::RandomDense({c.c, c.n, c.h, c.w}, rng), "x");
  }
  Variable Run() { return SparseConv2d(x_, *w_, &b_, cp_.kernel_h, cp_.kernel_w, cp_.stride, cp_.pad); }
  const ConvCase& Case() const { return std::get<0>(GetParam()); }

  kernels::Conv2dParams cp_;
  std::unique_ptr<SparseParameter> w_;  // made in SetUp (a parameter is not assignable)
  DenseParameter b_;
  Variable x_;
};

TEST_P(SparseConv2dOpTest, ForwardMatchesDoubleOracle) {
  const Variable y = Run();
  ASSERT_EQ(y.shape(), (std::vector<int64_t>{cp_.out_channels, cp_.batch, cp_.out_h(), cp_.out_w()}));
  EXPECT_EQ(w_->ran_dense, !w_->blocked() && std::get<2>(GetParam()) == LayerKernels::kDense);
  std::vector<double> expected = testutil::ConvForwardF64(cp_, w_->ToCsr().ToDense(), x_.value());
  const int64_t per_channel = static_cast<int64_t>(expected.size()) / cp_.out_channels;
  for (size_t i = 0; i < expected.size(); ++i) expected[i] += b_.var.value()[static_cast<int64_t>(i) / per_channel];
  const std::vector<float> got(y.value().data(), y.value().data() + y.value().size());
  EXPECT_TRUE(testutil::AllClose(got, expected, 1e-5)) << Case().why;
}

TEST_P(SparseConv2dOpTest, GradientsMatchFiniteDifferences) {
  GradCheckInput w_input{"layer.conv.weight.values", w_->mutable_values().data(), w_->stored(),
                         [this]() -> const float* { return w_->grad.data(); }};
  const GradCheckReport r = GradCheck([this] { return Run(); }, {LeafInput(x_), w_input, LeafInput(b_.var)});
  EXPECT_TRUE(r.ok) << Case().why << ": " << r.first_failure;
  EXPECT_EQ(r.checked, x_.value().size() + w_->stored() + cp_.out_channels);
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
  EXPECT_TRUE(testutil::AllClose(got, expected, 1e-4)) << Case().why;
  // On the pattern, the sparse gradient holds the same numbers (a block's padding: exactly 0).
  const PatternView g = w_->pattern();
  const int64_t br = w_->block_rows(), bc = w_->block_cols();
  for (int64_t ib = 0; ib < g.rows; ++ib) {
    for (int64_t p = g.offsets[ib]; p < g.offsets[ib + 1]; ++p) {
      for (int64_t e = 0; e < br * bc; ++e) {
        const int64_t k = ib * br + e / bc, col = g.indices[p] * bc + e % bc;
        const float got_grad = w_->grad[p * br * bc + e];
        if (k < rows && col < cols) {
          EXPECT_NEAR(got_grad, expected[k * cols + col], 1e-4) << "position " << p << " entry " << e;
        } else {
          EXPECT_EQ(got_grad, 0.0f) << "padding of position " << p;
        }
      }
    }
  }
}

TEST_P(SparseConv2dOpTest, OneAndTwoThreadsAreBitIdentical) {
  std::vector<float> out[2], d_x[2], d_w[2];
  for (int t = 0; t < 2; ++t) {
    SetNumThreads(t + 1);
    SetUp();
    Rng rng(25);
    Variable y = Run();
    Backward(y, testutil::RandomDense(y.shape(), rng));
    out[t].assign(y.value().data(), y.value().data() + y.value().size());
    d_x[t].assign(x_.grad().data(), x_.grad().data() + x_.grad().size());
    d_w[t].assign(w_->grad.begin(), w_->grad.end());
  }
  SetNumThreads(2);
  EXPECT_EQ(out[0], out[1]) << Case().why;
  EXPECT_EQ(d_x[0], d_x[1]) << Case().why;
  EXPECT_EQ(d_w[0], d_w[1]) << Case().why;
}

// CSR, blocks over 2 and 4 output channels, and 2x2 blocks (two channels x two filter taps).
INSTANTIATE_TEST_SUITE_P(Shapes, SparseConv2dOpTest,
                         ::testing::Combine(::testing::ValuesIn(kCases),
                                            ::testing::Values(Block{1, 1}, Block{2, 1}, Block{4, 1}, Block{2, 2}),
                                            ::testing::Values(LayerKernels::kSparse, LayerKernels::kDense)));

// The cost model on a convolution: a layer at full density runs dense, one far below its break-even sparse; the
// break-even depends on the dense kernel the shape would run, and a few-channel layer (the direct dense path, which
// the sparse kernels beat at every density measured) never runs dense.
TEST(SparseConv2dOp, AutoRunsDenseFromTheBreakEvenDensity) {
  SetLayerKernels(LayerKernels::kAuto);
  kernels::Conv2dParams few;
  few.batch = 2, few.in_channels = 4, few.in_h = few.in_w = 6, few.out_channels = 8;
  few.kernel_h = few.kernel_w = 3, few.pad = 1;
  EXPECT_FALSE(ConvRunsDense(few, few.out_channels * few.filter_size()));
  kernels::Conv2dParams cp = few;
  cp.in_channels = 12, cp.in_h = cp.in_w = 14;  // the plane path
  const int64_t cells = cp.out_channels * cp.filter_size();
  const double d = ConvBreakEvenDensity(cp);
  ASSERT_GT(d, 0.0);
  ASSERT_LE(d, 1.0);
  const int64_t at = static_cast<int64_t>(std::ceil(d * static_cast<double>(cells)));
  EXPECT_TRUE(ConvRunsDense(cp, at));
  EXPECT_FALSE(ConvRunsDense(cp, at - 1));
  Rng rng(32);
  for (const double density : {1.0, 0.1}) {
    SparseParameter w("conv.weight", testutil::RandomCsr(cp.out_channels, cp.filter_size(), density, rng));
    DenseParameter b("conv.bias", testutil::RandomDense({cp.out_channels}, rng));
    const Variable x = Leaf(testutil::RandomDense({12, 2, 14, 14}, rng), "x");
    SparseConv2d(x, w, &b, 3, 3, 1, 1);
    EXPECT_EQ(w.ran_dense, w.density() >= d) << "density " << w.density();
  }
}

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
