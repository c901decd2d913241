// Tests for the depthwise convolution kernels against an independent oracle: a depthwise conv is the dense conv
// whose [C, C*R*S] weight is zero off its diagonal blocks, so conv2d_cases.h's double-precision direct convolution
// (which shares no index code with these kernels) of the expanded weight is the expected result. Every ISA the CPU
// runs, the naive twins, thread-count determinism, FLOP counts and the parameter check.
#include "engine/kernels/depthwise_conv2d.h"

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

// {n, c, h, w, k = c, r, s, stride, pad, density (unused), why}.
std::vector<ConvCase> DepthwiseCases() {
  return {
      {1, 1, 1, 1, 1, 1, 1, 1, 0, 1, "smallest: a 1x1 filter on a 1x1 image (a per-channel scale)"},
      {2, 3, 7, 7, 3, 3, 3, 1, 1, 1, "3x3 stride 1 'same' (MobileNet), rows shorter than one vector"},
      {2, 3, 8, 8, 3, 3, 3, 2, 1, 1, "3x3 stride 2 'same' on an even side (MobileNet's downsampling)"},
      {2, 3, 7, 7, 3, 3, 3, 2, 1, 1, "3x3 stride 2 on an odd side: the last column needs the right border"},
      {1, 2, 5, 37, 2, 3, 3, 1, 1, 1, "37-wide rows: the row path's vector interior, a tail, both borders"},
      {2, 4, 24, 24, 4, 3, 3, 1, 1, 1, "24x24: the narrowest plane on the row path"},
      {2, 4, 23, 23, 4, 3, 3, 1, 1, 1, "23x23: the widest plane on the flattened path"},
      {1, 3, 1, 30, 3, 3, 3, 1, 1, 1, "a single 30-wide row: both neighbour rows are the zero row"},
      {1, 3, 9, 2, 3, 3, 3, 1, 1, 1, "2-wide plane: every output is a border column (flattened path)"},
      {1, 2, 6, 70, 2, 3, 3, 2, 1, 1, "stride 2 on 70-wide rows: strided vector loads and a tail"},
      {2, 4, 6, 40, 4, 3, 3, 1, 0, 1, "pad 0 (valid): no border columns, output narrower than input"},
      {1, 2, 5, 33, 2, 3, 3, 1, 2, 1, "pad 2: outputs whose window is mostly padding"},
      {1, 2, 4, 4, 2, 3, 3, 1, 3, 1, "pad 3 > R-1: stride-1 input gradient falls back to the scatter"},
      {2, 3, 1, 1, 3, 3, 3, 1, 1, 1, "1x1 image under a 3x3 filter: only the centre tap counts"},
      {2, 3, 9, 19, 3, 5, 5, 1, 2, 1, "5x5 'same': the run-time (not unrolled) filter width"},
      {2, 3, 11, 21, 3, 5, 5, 2, 2, 1, "5x5 stride 2: run-time width and stride"},
      {1, 2, 9, 23, 2, 3, 5, 1, 1, 1, "rectangular 3x5 filter: different row and column borders"},
      {1, 2, 10, 30, 2, 3, 3, 3, 1, 1, "stride 3: run-time stride with a 3-wide filter"},
      {3, 17, 14, 14, 17, 3, 3, 1, 1, 1, "17 channels x 3 images: planes split unevenly across threads"},
      {1, 32, 28, 28, 32, 3, 3, 2, 1, 1, "MobileNet-like: 32 channels, 28x28, stride 2"},
  };
}

// The [C, C*R*S] dense weight equal to the depthwise weight w [C, R*S] on its diagonal blocks, 0 elsewhere.
Tensor ExpandDepthwise(const Conv2dParams& cp, const Tensor& w) {
  const int64_t taps = cp.kernel_h * cp.kernel_w;
  Tensor dense({cp.in_channels, cp.in_channels * taps});
  for (int64_t c = 0; c < cp.in_channels; ++c) {
    for (int64_t t = 0; t < taps; ++t) dense[c * cp.in_channels * taps + c * taps + t] = w[c * taps + t];
  }
  return dense;
}

struct Fixture {
  Tensor w, x, d_y, y0, d_x0, d_w0;
  std::vector<double> y, d_x, d_w;  // oracle results (d_w: the diagonal blocks of the dense conv's gradient)
};

const Fixture& FixtureFor(const ConvCase& c) {
  static std::map<std::string, Fixture>* cache = new std::map<std::string, Fixture>();
  auto it = cache->find(c.why);
  if (it != cache->end()) return it->second;
  const Conv2dParams cp = c.params();
  const int64_t taps = cp.kernel_h * cp.kernel_w;
  testutil::Rng rng(/*seed=*/29);
  Fixture f;
  f.w = testutil::RandomDense({cp.in_channels, taps}, rng);
  f.x = testutil::RandomDense({cp.in_channels, cp.batch * cp.in_h * cp.in_w}, rng);
  f.d_y = testutil::RandomDense({cp.in_channels, cp.batch * cp.out_h() * cp.out_w()}, rng);
  f.y0 = testutil::RandomDense({cp.in_channels, cp.batch * cp.out_h() * cp.out_w()}, rng);
  f.d_x0 = testutil::RandomDense({cp.in_channels, cp.batch * cp.in_h * cp.in_w}, rng);
  f.d_w0 = testutil::RandomDense({cp.in_channels, taps}, rng);
  const Tensor dense = ExpandDepthwise(cp, f.w);
  f.y = testutil::ConvForwardF64(cp, dense, f.x);
  f.d_x = testutil::ConvBackwardInputF64(cp, dense, f.d_y);
  const std::vector<double> d_dense = testutil::ConvBackwardWeightF64(cp, f.d_y, f.x);
  for (int64_t ch = 0; ch < cp.in_channels; ++ch) {
    for (int64_t t = 0; t < taps; ++t) f.d_w.push_back(d_dense[ch * cp.in_channels * taps + ch * taps + t]);
  }
  return cache->emplace(c.why, std::move(f)).first->second;
}

// rows x (size / rows), plus `addend` element-wise when non-null.
testutil::DenseF64 Expected(int64_t rows, std::vector<double> data, const Tensor* addend) {
  testutil::DenseF64 m;
  m.rows = rows;
  m.cols = static_cast<int64_t>(data.size()) / rows;
  if (addend != nullptr) {
    for (int64_t i = 0; i < static_cast<int64_t>(data.size()); ++i) data[i] += (*addend)[i];
  }
  m.data = std::move(data);
  return m;
}

class DepthwiseConv2dTest : public ::testing::TestWithParam<ConvCase> {
 protected:
  void SetUp() override {
    f_ = &FixtureFor(GetParam());
    cp_ = GetParam().params();
  }
  void TearDown() override {
    engine::SetNumThreads(2);
    engine::LimitIsa(engine::Isa::kAvx512);
  }
  double ForwardTol() const { return testutil::ConvTolerance(cp_.kernel_h * cp_.kernel_w); }
  double WeightTol() const { return testutil::ConvTolerance(cp_.batch * cp_.out_h() * cp_.out_w()); }

  const Fixture* f_ = nullptr;
  Conv2dParams cp_;
};

TEST_P(DepthwiseConv2dTest, ForwardOverwritesWithConvolutionOnEveryIsa) {
  for (engine::Isa isa : engine::SupportedIsas()) {
    engine::LimitIsa(isa);
    Tensor y = f_->y0;
    engine::kernels::DepthwiseConv2dForward(cp_, f_->w.view(), f_->x.view(), y.view());
    EXPECT_TRUE(testutil::AllClose(y, Expected(cp_.in_channels, f_->y, nullptr), ForwardTol()))
        << engine::IsaName(isa);
  }
  Tensor naive = f_->y0;
  engine::kernels::DepthwiseConv2dForwardNaive(cp_, f_->w.view(), f_->x.view(), naive.view());
  EXPECT_TRUE(testutil::AllClose(naive, Expected(cp_.in_channels, f_->y, nullptr), ForwardTol())) << "naive";
}

TEST_P(DepthwiseConv2dTest, BackwardInputAccumulatesOnEveryIsa) {
  for (engine::Isa isa : engine::SupportedIsas()) {
    engine::LimitIsa(isa);
    Tensor d_x = f_->d_x0;
    engine::kernels::DepthwiseConv2dBackwardInput(cp_, f_->w.view(), f_->d_y.view(), d_x.view());
    EXPECT_TRUE(testutil::AllClose(d_x, Expected(cp_.in_channels, f_->d_x, &f_->d_x0), ForwardTol()))
        << engine::IsaName(isa);
  }
  Tensor naive = f_->d_x0;
  engine::kernels::DepthwiseConv2dBackwardInputNaive(cp_, f_->w.view(), f_->d_y.view(), naive.view());
  EXPECT_TRUE(testutil::AllClose(naive, Expected(cp_.in_channels, f_->d_x, &f_->d_x0), ForwardTol())) << "naive";
}

TEST_P(DepthwiseConv2dTest, BackwardWeightAccumulatesOnEveryIsa) {
  for (engine::Isa isa : engine::SupportedIsas()) {
    engine::LimitIsa(isa);
    Tensor d_w = f_->d_w0;
    engine::kernels::DepthwiseConv2dBackwardWeight(cp_, f_->d_y.view(), f_->x.view(), d_w.view());
    EXPECT_TRUE(testutil::AllClose(d_w, Expected(cp_.in_channels, f_->d_w, &f_->d_w0), WeightTol()))
        << engine::IsaName(isa);
  }
  Tensor naive = f_->d_w0;
  engine::kernels::DepthwiseConv2dBackwardWeightNaive(cp_, f_->d_y.view(), f_->x.view(), naive.view());
  EXPECT_TRUE(testutil::AllClose(naive, Expected(cp_.in_channels, f_->d_w, &f_->d_w0), WeightTol())) << "naive";
}

// 1, 2 and 3 threads on every ISA: a plane (forward, input gradient) or a channel (weight gradient) belongs to one
// thread and is computed in a fixed order, so every output is bitwise the same.
TEST_P(DepthwiseConv2dTest, DeterministicAcrossThreadCounts) {
  for (engine::Isa isa : engine::SupportedIsas()) {
    engine::LimitIsa(isa);
    constexpr int kRuns = 3;
    Tensor y[kRuns], d_x[kRuns], d_w[kRuns];
    for (int t = 0; t < kRuns; ++t) {
      y[t] = f_->y0, d_x[t] = f_->d_x0, d_w[t] = f_->d_w0;
      engine::SetNumThreads(t + 1);
      engine::kernels::DepthwiseConv2dForward(cp_, f_->w.view(), f_->x.view(), y[t].view());
      engine::kernels::DepthwiseConv2dBackwardInput(cp_, f_->w.view(), f_->d_y.view(), d_x[t].view());
      engine::kernels::DepthwiseConv2dBackwardWeight(cp_, f_->d_y.view(), f_->x.view(), d_w[t].view());
    }
    for (int t = 1; t < kRuns; ++t) {
      EXPECT_TRUE(testutil::BitIdentical(y[0].data(), y[t].data(), y[0].size()))
          << engine::IsaName(isa) << " forward, " << t + 1 << " threads";
      EXPECT_TRUE(testutil::BitIdentical(d_x[0].data(), d_x[t].data(), d_x[0].size()))
          << engine::IsaName(isa) << " input gradient, " << t + 1 << " threads";
      EXPECT_TRUE(testutil::BitIdentical(d_w[0].data(), d_w[t].data(), d_w[0].size()))
          << engine::IsaName(isa) << " weight gradient, " << t + 1 << " threads";
    }
  }
}

TEST_P(DepthwiseConv2dTest, CountsDenseEquivalentFlops) {
  const double expected = 2.0 * cp_.in_channels * cp_.kernel_h * cp_.kernel_w * cp_.batch * cp_.out_h() * cp_.out_w();
  Tensor y = f_->y0, d_x = f_->d_x0, d_w = f_->d_w0;
  engine::FlopCounter::Reset();
  engine::kernels::DepthwiseConv2dForward(cp_, f_->w.view(), f_->x.view(), y.view());
  EXPECT_EQ(engine::FlopCounter::Get(), static_cast<uint64_t>(expected)) << "forward";
  engine::FlopCounter::Reset();
  engine::kernels::DepthwiseConv2dBackwardInput(cp_, f_->w.view(), f_->d_y.view(), d_x.view());
  EXPECT_EQ(engine::FlopCounter::Get(), static_cast<uint64_t>(expected)) << "input gradient";
  engine::FlopCounter::Reset();
  engine::kernels::DepthwiseConv2dBackwardWeight(cp_, f_->d_y.view(), f_->x.view(), d_w.view());
  EXPECT_EQ(engine::FlopCounter::Get(), static_cast<uint64_t>(expected)) << "weight gradient";
}

INSTANTIATE_TEST_SUITE_P(Shapes, DepthwiseConv2dTest, ::testing::ValuesIn(DepthwiseCases()));

TEST(DepthwiseConv2dParamsCheck, RejectsAChannelCountChange) {
  Conv2dParams cp;
  cp.in_channels = 4, cp.out_channels = 8, cp.in_h = cp.in_w = 5, cp.kernel_h = cp.kernel_w = 3, cp.pad = 1;
  try {
    engine::kernels::CheckDepthwiseConv2dParams(cp, "blocks.1.depthwise");
    ADD_FAILURE() << "8 output channels for 4 inputs accepted";
  } catch (const engine::Error& e) {
    EXPECT_NE(std::string(e.what()).find("blocks.1.depthwise"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("8 output channels for 4"), std::string::npos) << e.what();
  }
  cp.out_channels = 4;
  EXPECT_NO_THROW(engine::kernels::CheckDepthwiseConv2dParams(cp, "ok"));
  cp.stride = 0;
  EXPECT_THROW(engine::kernels::CheckDepthwiseConv2dParams(cp, "stride 0"), engine::Error);
}

}  // namespace
