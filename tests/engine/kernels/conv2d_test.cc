// Tests for the dense convolution kernels (im2col + sgemm, and the direct Naive twins) against the double-precision
// direct-convolution oracle of conv2d_cases.h over the shared shape table: overwrite/accumulate semantics, bias+ReLU,
// thread-count determinism, FLOP counts and the parameter checks.
#include "engine/kernels/conv2d.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/base/check.h"
#include "engine/base/cpu.h"
#include "engine/base/flop_counter.h"
#include "engine/base/parallel.h"
#include "tests/engine/kernels/conv2d_cases.h"
#include "tests/testutil/testutil.h"

namespace {

using engine::Tensor;
using engine::kernels::Conv2dParams;
using testutil::ConvCase;

struct Fixture {
  Tensor w, x, d_y, bias, y0, d_x0, d_w0;
  std::vector<double> y, d_x, d_w;
};

const Fixture& FixtureFor(const ConvCase& c) {
  static std::map<std::string, Fixture>* cache = new std::map<std::string, Fixture>();
  auto it = cache->find(c.why);
  if (it != cache->end()) return it->second;
  const Conv2dParams cp = c.params();
  testutil::Rng rng(/*seed=*/13);
  Fixture f;
  f.w = testutil::RandomDense({cp.out_channels, cp.filter_size()}, rng);
  f.x = testutil::RandomDense({cp.in_channels, cp.batch * cp.in_h * cp.in_w}, rng);
  f.d_y = testutil::RandomDense({cp.out_channels, cp.batch * cp.out_h() * cp.out_w()}, rng);
  f.bias = testutil::RandomDense({cp.out_channels}, rng);
  f.y0 = testutil::RandomDense({cp.out_channels, cp.batch * cp.out_h() * cp.out_w()}, rng);
  f.d_x0 = testutil::RandomDense({cp.in_channels, cp.batch * cp.in_h * cp.in_w}, rng);
  f.d_w0 = testutil::RandomDense({cp.out_channels, cp.filter_size()}, rng);
  f.y = testutil::ConvForwardF64(cp, f.w, f.x);
  f.d_x = testutil::ConvBackwardInputF64(cp, f.w, f.d_y);
  f.d_w = testutil::ConvBackwardWeightF64(cp, f.d_y, f.x);
  return cache->emplace(c.why, std::move(f)).first->second;
}

// rows x (size / rows) matrix from data, plus `addend` element-wise, then bias per row and ReLU as asked.
testutil::DenseF64 Expected(int64_t rows, std::vector<double> data, const Tensor* addend, const float* bias,
                            bool relu) {
  testutil::DenseF64 m;
  m.rows = rows;
  m.cols = static_cast<int64_t>(data.size()) / rows;
  for (int64_t i = 0; i < static_cast<int64_t>(data.size()); ++i) {
    if (addend != nullptr) data[i] += (*addend)[i];
    if (bias != nullptr) data[i] += bias[i / m.cols];
    if (relu) data[i] = std::max(data[i], 0.0);
  }
  m.data = std::move(data);
  return m;
}

class Conv2dTest : public ::testing::TestWithParam<ConvCase> {
 protected:
  void SetUp() override {
    f_ = &FixtureFor(GetParam());
    cp_ = GetParam().params();
  }
  void TearDown() override { engine::SetNumThreads(2); }
  double ForwardTol() const { return testutil::ConvTolerance(cp_.filter_size()); }
  double InputTol() const { return testutil::ConvTolerance(cp_.out_channels * cp_.kernel_h * cp_.kernel_w); }
  double WeightTol() const { return testutil::ConvTolerance(cp_.batch * cp_.out_h() * cp_.out_w()); }

  const Fixture* f_ = nullptr;
  Conv2dParams cp_;
};

TEST_P(Conv2dTest, ForwardOverwritesWithConvolution) {
  Tensor y = f_->y0;
  engine::kernels::Conv2dForward(cp_, f_->w.view(), f_->x.view(), y.view());
  EXPECT_TRUE(testutil::AllClose(y, Expected(cp_.out_channels, f_->y, nullptr, nullptr, false), ForwardTol()));
}

TEST_P(Conv2dTest, ForwardAddsBiasThenRelu) {
  Tensor y = f_->y0;
  engine::kernels::Conv2dForward(cp_, f_->w.view(), f_->x.view(), y.view(), f_->bias.data(), true);
  EXPECT_TRUE(
      testutil::AllClose(y, Expected(cp_.out_channels, f_->y, nullptr, f_->bias.data(), true), ForwardTol()));
}

// The direct paths (conv2d_direct.h: few channels; conv2d_plane.h: many) are compiled per ISA: forward, input and
// weight gradient on each one the CPU runs (the lowered shapes check that the ISA does not matter).
TEST_P(Conv2dTest, EveryPassOnEveryIsa) {
  for (engine::Isa isa : engine::SupportedIsas()) {
    engine::LimitIsa(isa);
    Tensor y = f_->y0;
    engine::kernels::Conv2dForward(cp_, f_->w.view(), f_->x.view(), y.view(), f_->bias.data(), true);
    EXPECT_TRUE(
        testutil::AllClose(y, Expected(cp_.out_channels, f_->y, nullptr, f_->bias.data(), true), ForwardTol()))
        << engine::IsaName(isa);
    Tensor d_x = f_->d_x0;
    engine::kernels::Conv2dBackwardInput(cp_, f_->w.view(), f_->d_y.view(), d_x.view());
    EXPECT_TRUE(testutil::AllClose(d_x, Expected(cp_.in_channels, f_->d_x, &f_->d_x0, nullptr, false), InputTol()))
        << engine::IsaName(isa);
    Tensor d_w = f_->d_w0;
    engine::kernels::Conv2dBackwardWeight(cp_, f_->d_y.view(), f_->x.view(), d_w.view());
    EXPECT_TRUE(
        testutil::AllClose(d_w, Expected(cp_.out_channels, f_->d_w, &f_->d_w0, nullptr, false), WeightTol()))
        << engine::IsaName(isa);
  }
  engine::LimitIsa(engine::Isa::kAvx512);
}

TEST_P(Conv2dTest, ForwardNaiveMatchesOracle) {
  Tensor y = f_->y0;
  engine::kernels::Conv2dForwardNaive(cp_, f_->w.view(), f_->x.view(), y.view(), f_->bias.data(), true);
  EXPECT_TRUE(
      testutil::AllClose(y, Expected(cp_.out_channels, f_->y, nullptr, f_->bias.data(), true), ForwardTol()));
}

TEST_P(Conv2dTest, BackwardInputAccumulates) {
  Tensor d_x = f_->d_x0;
  engine::kernels::Conv2dBackwardInput(cp_, f_->w.view(), f_->d_y.view(), d_x.view());
  EXPECT_TRUE(testutil::AllClose(d_x, Expected(cp_.in_channels, f_->d_x, &f_->d_x0, nullptr, false), InputTol()));
  Tensor naive = f_->d_x0;
  engine::kernels::Conv2dBackwardInputNaive(cp_, f_->w.view(), f_->d_y.view(), naive.view());
  EXPECT_TRUE(testutil::AllClose(naive, Expected(cp_.in_channels, f_->d_x, &f_->d_x0, nullptr, false), InputTol()))
      << "naive";
}

TEST_P(Conv2dTest, BackwardWeightAccumulates) {
  Tensor d_w = f_->d_w0;
  engine::kernels::Conv2dBackwardWeight(cp_, f_->d_y.view(), f_->x.view(), d_w.view());
  EXPECT_TRUE(
      testutil::AllClose(d_w, Expected(cp_.out_channels, f_->d_w, &f_->d_w0, nullptr, false), WeightTol()));
  Tensor naive = f_->d_w0;
  engine::kernels::Conv2dBackwardWeightNaive(cp_, f_->d_y.view(), f_->x.view(), naive.view());
  EXPECT_TRUE(
      testutil::AllClose(naive, Expected(cp_.out_channels, f_->d_w, &f_->d_w0, nullptr, false), WeightTol()))
      << "naive";
}

// 1, 2 and 3 threads: the dense path's split of work is Gemm's own (fixed by the shape), so every output, the weight
// gradient included, is bitwise the same whatever OpenBLAS core runs (gemm_test repeats this under each core).
TEST_P(Conv2dTest, DeterministicAcrossThreadCounts) {
  testutil::ExpectForcedBlasCore();
  constexpr int kRuns = 3;
  Tensor y[kRuns], d_x[kRuns], d_w[kRuns];
  for (int t = 0; t < kRuns; ++t) {
    y[t] = f_->y0, d_x[t] = f_->d_x0, d_w[t] = f_->d_w0;
    engine::SetNumThreads(t + 1);
    engine::kernels::Conv2dForward(cp_, f_->w.view(), f_->x.view(), y[t].view(), f_->bias.data(), true);
    engine::kernels::Conv2dBackwardInput(cp_, f_->w.view(), f_->d_y.view(), d_x[t].view());
    engine::kernels::Conv2dBackwardWeight(cp_, f_->d_y.view(), f_->x.view(), d_w[t].view());
  }
  engine::SetNumThreads(2);
  for (int t = 1; t < kRuns; ++t) {
    EXPECT_TRUE(testutil::BitIdentical(y[0].data(), y[t].data(), y[0].size())) << "forward, " << t + 1 << " threads";
    EXPECT_TRUE(testutil::BitIdentical(d_x[0].data(), d_x[t].data(), d_x[0].size()))
        << "input gradient, " << t + 1 << " threads";
    EXPECT_TRUE(testutil::BitIdentical(d_w[0].data(), d_w[t].data(), d_w[0].size()))
        << "weight gradient, " << t + 1 << " threads";
  }
}

// The same under every OpenBLAS core this CPU can run (on the Intel Xeon of issue 10 the SkylakeX kernels broke it).
TEST(Conv2dDeterminism, HoldsUnderEveryOpenBlasCore) {
  if (std::getenv("ENGINE_OPENBLAS_CORE") != nullptr) GTEST_SKIP() << "already a child run";
  testutil::ExpectPassesUnderEveryBlasCore("Shapes/Conv2dTest.DeterministicAcrossThreadCounts/*");
}

TEST_P(Conv2dTest, CountsDenseFlops) {
  const double expected = 2.0 * cp_.out_channels * cp_.filter_size() * cp_.batch * cp_.out_h() * cp_.out_w();
  Tensor y = f_->y0, d_x = f_->d_x0, d_w = f_->d_w0;
  engine::FlopCounter::Reset();
  engine::kernels::Conv2dForward(cp_, f_->w.view(), f_->x.view(), y.view());
  EXPECT_EQ(engine::FlopCounter::Get(), static_cast<uint64_t>(expected)) << "forward";
  engine::FlopCounter::Reset();
  engine::kernels::Conv2dBackwardInput(cp_, f_->w.view(), f_->d_y.view(), d_x.view());
  EXPECT_EQ(engine::FlopCounter::Get(), static_cast<uint64_t>(expected)) << "input gradient";
  engine::FlopCounter::Reset();
  engine::kernels::Conv2dBackwardWeight(cp_, f_->d_y.view(), f_->x.view(), d_w.view());
  EXPECT_EQ(engine::FlopCounter::Get(), static_cast<uint64_t>(expected)) << "weight gradient";
}

INSTANTIATE_TEST_SUITE_P(Shapes, Conv2dTest, ::testing::ValuesIn(testutil::ConvKernelCases()));

TEST(Conv2dParamsCheck, RejectsBadShapesNamingTheRule) {
  Conv2dParams ok;
  ok.in_h = ok.in_w = 5, ok.kernel_h = ok.kernel_w = 3;
  EXPECT_NO_THROW(engine::kernels::CheckConv2dParams(ok, "conv"));
  Conv2dParams zero_batch = ok;
  zero_batch.batch = 0;
  try {
    engine::kernels::CheckConv2dParams(zero_batch, "layer1.conv");
    ADD_FAILURE() << "batch 0 accepted";
  } catch (const engine::Error& e) {
    EXPECT_NE(std::string(e.what()).find("layer1.conv"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("N=0"), std::string::npos) << e.what();
  }
  Conv2dParams bad_stride = ok;
  bad_stride.stride = 0;
  EXPECT_THROW(engine::kernels::CheckConv2dParams(bad_stride, "conv"), engine::Error);
  Conv2dParams too_big = ok;
  too_big.kernel_h = 7;  // 5 + 0 < 7
  try {
    engine::kernels::CheckConv2dParams(too_big, "conv");
    ADD_FAILURE() << "kernel larger than the padded input accepted";
  } catch (const engine::Error& e) {
    EXPECT_NE(std::string(e.what()).find("H + 2*pad >= R"), std::string::npos) << e.what();
  }
}

}  // namespace
