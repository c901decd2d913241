// Tests for the sparse convolution kernels (forward, input gradient, weight gradient and their Naive twins) against
// the double-precision direct-convolution oracle of conv2d_cases.h on the densified weight, over the shape table,
// on both ISA paths, with the bias+ReLU epilogue, accumulate semantics, thread-count determinism and FLOP counts.
#include "engine/kernels/sparse_conv2d.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/base/cpu.h"
#include "engine/base/flop_counter.h"
#include "engine/base/parallel.h"
#include "engine/kernels/spmm.h"
#include "tests/engine/kernels/conv2d_cases.h"
#include "tests/testutil/testutil.h"

namespace {

using engine::Tensor;
using engine::kernels::Conv2dParams;
using testutil::ConvCase;

// Operands and oracles of one case, built once.
struct Fixture {
  engine::CsrMatrix w;
  Tensor x, d_y, bias, y0, d_x0;  // y0: garbage to overwrite; d_x0: addend of the input gradient
  std::vector<float> d_w0;        // addend of the weight gradient (nnz entries)
  std::vector<double> y, d_x, d_w_dense;
};

const Fixture& FixtureFor(const ConvCase& c) {
  static std::map<std::string, Fixture>* cache = new std::map<std::string, Fixture>();
  auto it = cache->find(c.why);
  if (it != cache->end()) return it->second;
  const Conv2dParams cp = c.params();
  testutil::Rng rng(/*seed=*/11);
  Fixture f;
  f.w = testutil::RandomCsr(cp.out_channels, cp.filter_size(), c.density, rng);
  f.x = testutil::RandomDense({cp.in_channels, cp.batch * cp.in_h * cp.in_w}, rng);
  f.d_y = testutil::RandomDense({cp.out_channels, cp.batch * cp.out_h() * cp.out_w()}, rng);
  f.bias = testutil::RandomDense({cp.out_channels}, rng);
  f.y0 = testutil::RandomDense({cp.out_channels, cp.batch * cp.out_h() * cp.out_w()}, rng);
  f.d_x0 = testutil::RandomDense({cp.in_channels, cp.batch * cp.in_h * cp.in_w}, rng);
  for (int64_t p = 0; p < f.w.nnz(); ++p) f.d_w0.push_back(rng.UniformFloat(-1.0f, 1.0f));
  const Tensor dense_w = f.w.ToDense();
  f.y = testutil::ConvForwardF64(cp, dense_w, f.x);
  f.d_x = testutil::ConvBackwardInputF64(cp, dense_w, f.d_y);
  f.d_w_dense = testutil::ConvBackwardWeightF64(cp, f.d_y, f.x);
  f.w.EnsureTransposeIndex();
  return cache->emplace(c.why, std::move(f)).first->second;
}

testutil::DenseF64 AsMatrix(int64_t rows, std::vector<double> data) {
  testutil::DenseF64 m;
  m.rows = rows;
  m.cols = rows == 0 ? 0 : static_cast<int64_t>(data.size()) / rows;
  m.data = std::move(data);
  return m;
}

class SparseConv2dTest : public ::testing::TestWithParam<ConvCase> {
 protected:
  void SetUp() override {
    f_ = &FixtureFor(GetParam());
    cp_ = GetParam().params();
  }
  void TearDown() override {
    engine::ForcePortableIsa(false);
    engine::SetNumThreads(2);
  }
  // Expected forward output (+ bias, ReLU as asked) as a [K, N*P*Q] matrix.
  testutil::DenseF64 ExpectedY(bool with_bias, bool relu) const {
    std::vector<double> y = f_->y;
    const int64_t cols = static_cast<int64_t>(y.size()) / cp_.out_channels;
    for (int64_t i = 0; i < static_cast<int64_t>(y.size()); ++i) {
      if (with_bias) y[i] += f_->bias[i / cols];
      if (relu) y[i] = std::max(y[i], 0.0);
    }
    return AsMatrix(cp_.out_channels, std::move(y));
  }
  testutil::DenseF64 ExpectedDx() const {
    std::vector<double> d_x = f_->d_x;
    for (size_t i = 0; i < d_x.size(); ++i) d_x[i] += f_->d_x0[static_cast<int64_t>(i)];
    return AsMatrix(cp_.in_channels, std::move(d_x));
  }
  // d_w0 + the dense oracle gradient gathered at the pattern's positions.
  std::vector<double> ExpectedDw() const {
    std::vector<double> d_w;
    const auto& offsets = f_->w.row_offsets();
    for (int64_t k = 0; k < cp_.out_channels; ++k) {
      for (int64_t p = offsets[k]; p < offsets[k + 1]; ++p) {
        d_w.push_back(f_->d_w0[p] + f_->d_w_dense[k * cp_.filter_size() + f_->w.col_indices()[p]]);
      }
    }
    return d_w;
  }
  double ForwardTol() const { return testutil::ConvTolerance(cp_.filter_size()); }
  double InputTol() const { return testutil::ConvTolerance(cp_.out_channels * cp_.kernel_h * cp_.kernel_w); }
  double WeightTol() const { return testutil::ConvTolerance(cp_.batch * cp_.out_h() * cp_.out_w()); }

  Tensor Forward(bool with_bias, bool relu) const {
    Tensor y = f_->y0;
    engine::kernels::SparseConv2dForward(cp_, f_->w.view(), f_->x.view(), y.view(),
                                         with_bias ? f_->bias.data() : nullptr, relu);
    return y;
  }
  Tensor BackwardInput() const {
    Tensor d_x = f_->d_x0;
    engine::kernels::SparseConv2dBackwardInput(cp_, f_->w.view(true), f_->d_y.view(), d_x.view());
    return d_x;
  }
  std::vector<float> BackwardWeight() const {
    std::vector<float> d_w = f_->d_w0;
    engine::kernels::SparseConv2dBackwardWeight(cp_, f_->w.view(), f_->d_y.view(), f_->x.view(), d_w.data());
    return d_w;
  }

  const Fixture* f_ = nullptr;
  Conv2dParams cp_;
};

TEST_P(SparseConv2dTest, ForwardOverwritesWithConvolutionOnBothIsaPaths) {
  for (engine::Isa isa : engine::SupportedIsas()) {
    engine::LimitIsa(isa);
    EXPECT_TRUE(testutil::AllClose(Forward(false, false), ExpectedY(false, false), ForwardTol()))
        << "isa " << engine::IsaName(engine::ActiveIsa());
  }
}

TEST_P(SparseConv2dTest, ForwardAddsBiasThenRelu) {
  for (engine::Isa isa : engine::SupportedIsas()) {
    engine::LimitIsa(isa);
    EXPECT_TRUE(testutil::AllClose(Forward(true, false), ExpectedY(true, false), ForwardTol()))
        << "bias only, isa " << engine::IsaName(engine::ActiveIsa());
    EXPECT_TRUE(testutil::AllClose(Forward(true, true), ExpectedY(true, true), ForwardTol()))
        << "bias + relu, isa " << engine::IsaName(engine::ActiveIsa());
  }
}

TEST_P(SparseConv2dTest, ForwardNaiveMatchesOracle) {
  Tensor y = f_->y0;
  engine::kernels::SparseConv2dForwardNaive(cp_, f_->w.view(), f_->x.view(), y.view(), f_->bias.data(), true);
  EXPECT_TRUE(testutil::AllClose(y, ExpectedY(true, true), ForwardTol()));
}

TEST_P(SparseConv2dTest, BackwardInputAccumulatesOnBothIsaPaths) {
  for (engine::Isa isa : engine::SupportedIsas()) {
    engine::LimitIsa(isa);
    EXPECT_TRUE(testutil::AllClose(BackwardInput(), ExpectedDx(), InputTol()))
        << "isa " << engine::IsaName(engine::ActiveIsa());
  }
}

TEST_P(SparseConv2dTest, BackwardInputNaiveMatchesOracle) {
  Tensor d_x = f_->d_x0;
  engine::kernels::SparseConv2dBackwardInputNaive(cp_, f_->w.view(), f_->d_y.view(), d_x.view());
  EXPECT_TRUE(testutil::AllClose(d_x, ExpectedDx(), InputTol()));
}

TEST_P(SparseConv2dTest, BackwardWeightAccumulatesOnPatternOnBothIsaPaths) {
  for (engine::Isa isa : engine::SupportedIsas()) {
    engine::LimitIsa(isa);
    EXPECT_TRUE(testutil::AllClose(BackwardWeight(), ExpectedDw(), WeightTol()))
        << "isa " << engine::IsaName(engine::ActiveIsa());
  }
}

TEST_P(SparseConv2dTest, BackwardWeightNaiveMatchesOracle) {
  std::vector<float> d_w = f_->d_w0;
  engine::kernels::SparseConv2dBackwardWeightNaive(cp_, f_->w.view(), f_->d_y.view(), f_->x.view(), d_w.data());
  EXPECT_TRUE(testutil::AllClose(d_w, ExpectedDw(), WeightTol()));
}

TEST_P(SparseConv2dTest, OneAndTwoThreadsAreBitIdentical) {
  for (engine::Isa isa : engine::SupportedIsas()) {
    engine::LimitIsa(isa);
    engine::SetNumThreads(1);
    const Tensor y1 = Forward(true, true), d_x1 = BackwardInput();
    const std::vector<float> d_w1 = BackwardWeight();
    engine::SetNumThreads(2);
    const Tensor y2 = Forward(true, true), d_x2 = BackwardInput();
    const std::vector<float> d_w2 = BackwardWeight();
    EXPECT_TRUE(testutil::BitIdentical(y1.data(), y2.data(), y1.size())) << "forward";
    EXPECT_TRUE(testutil::BitIdentical(d_x1.data(), d_x2.data(), d_x1.size())) << "input gradient";
    EXPECT_TRUE(testutil::BitIdentical(d_w1.data(), d_w2.data(), static_cast<int64_t>(d_w1.size())))
        << "weight gradient";
  }
}

TEST_P(SparseConv2dTest, IsaPathsAgreeWithEachOther) {
  engine::ForcePortableIsa(true);
  const Tensor y_p = Forward(true, false), d_x_p = BackwardInput();
  const std::vector<float> d_w_p = BackwardWeight();
  engine::ForcePortableIsa(false);
  const Tensor y_b = Forward(true, false), d_x_b = BackwardInput();
  const std::vector<float> d_w_b = BackwardWeight();
  EXPECT_TRUE(testutil::AllClose(y_b, testutil::ToF64(y_p), ForwardTol())) << "forward";
  EXPECT_TRUE(testutil::AllClose(d_x_b, testutil::ToF64(d_x_p), InputTol())) << "input gradient";
  EXPECT_TRUE(testutil::AllClose(d_w_b, std::vector<double>(d_w_p.begin(), d_w_p.end()), WeightTol()))
      << "weight gradient";
}

TEST_P(SparseConv2dTest, CountsTwoFlopsPerNonzeroPerOutputPixel) {
  const double expected = 2.0 * f_->w.nnz() * cp_.batch * cp_.out_h() * cp_.out_w();
  engine::FlopCounter::Reset();
  Forward(false, false);
  EXPECT_EQ(engine::FlopCounter::Get(), static_cast<uint64_t>(expected)) << "forward";
  engine::FlopCounter::Reset();
  BackwardInput();
  EXPECT_EQ(engine::FlopCounter::Get(), static_cast<uint64_t>(expected)) << "input gradient";
  engine::FlopCounter::Reset();
  BackwardWeight();
  EXPECT_EQ(engine::FlopCounter::Get(), static_cast<uint64_t>(expected)) << "weight gradient";
}

INSTANTIATE_TEST_SUITE_P(Shapes, SparseConv2dTest, ::testing::ValuesIn(testutil::ConvKernelCases()));

// A 1x1 stride-1 pad-0 conv is exactly SpmmCsr: same bits as the SpMM kernel on the same operands.
TEST(SparseConv2dPointwise, ForwardIsExactlySpmm) {
  testutil::Rng rng(3);
  Conv2dParams cp;
  cp.batch = 3, cp.in_channels = 10, cp.in_h = 5, cp.in_w = 4, cp.out_channels = 7;
  const engine::CsrMatrix w = testutil::RandomCsr(7, 10, 0.4, rng);
  const Tensor x = testutil::RandomDense({10, 60}, rng);
  Tensor y_conv({7, 60}), y_spmm({7, 60});
  engine::kernels::SparseConv2dForward(cp, w.view(), x.view(), y_conv.view());
  const Tensor dense_w = w.ToDense();
  const std::vector<double> expected = testutil::ConvForwardF64(cp, dense_w, x);
  EXPECT_TRUE(testutil::AllClose(y_conv, AsMatrix(7, expected), testutil::ConvTolerance(10)));
  engine::kernels::SpmmCsr(w.view(), x.view(), y_spmm.view());
  EXPECT_TRUE(testutil::BitIdentical(y_conv.data(), y_spmm.data(), y_conv.size()));
}

}  // namespace
