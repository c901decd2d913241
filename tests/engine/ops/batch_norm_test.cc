// BatchNorm: training-mode values and running-statistic updates against a double-precision computation,
// inference-mode values from the running statistics, finite-difference gradients in both modes, and checks.
#include "engine/ops/batch_norm.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "engine/autograd/gradcheck.h"
#include "engine/base/check.h"
#include "engine/base/cpu.h"
#include "engine/base/fixed_order_sum.h"
#include "tests/testutil/testutil.h"

namespace engine {
namespace {

struct Bn {
  DenseParameter gamma, beta;
  Tensor running_mean, running_var;
  Bn(int64_t c, Rng& rng)
      : gamma("bn.weight", testutil::RandomDense({c}, rng)),
        beta("bn.bias", testutil::RandomDense({c}, rng)),
        running_mean(testutil::RandomDense({c}, rng)),
        running_var({c}) {
    for (int64_t i = 0; i < c; ++i) running_var[i] = 0.5f + static_cast<float>(i);
  }
};

class BatchNormTest : public ::testing::TestWithParam<std::vector<int64_t>> {};

TEST_P(BatchNormTest, TrainingValuesAndRunningStats) {
  Rng rng(61);
  const std::vector<int64_t> shape = GetParam();
  const int64_t C = shape[0];
  Bn bn(C, rng);
  const Tensor rm0 = bn.running_mean, rv0 = bn.running_var;
  Variable x = Constant(testutil::RandomDense(shape, rng));
  Variable y = BatchNorm(x, bn.gamma, bn.beta, bn.running_mean, bn.running_var, 0.1f, 1e-5f, true);
  const int64_t M = x.value().size() / C;
  for (int64_t c = 0; c < C; ++c) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < M; ++i) mean += x.value()[c * M + i];
    mean /= M;
    for (int64_t i = 0; i < M; ++i) var += std::pow(x.value()[c * M + i] - mean, 2);
    var /= M;
    for (int64_t i = 0; i < M; ++i) {
      const double expected =
          bn.gamma.var.value()[c] * (x.value()[c * M + i] - mean) / std::sqrt(var + 1e-5) + bn.beta.var.value()[c];
      ASSERT_NEAR(y.value()[c * M + i], expected, 1e-5) << "channel " << c << ", element " << i;
    }
    EXPECT_NEAR(bn.running_mean[c], 0.9 * rm0[c] + 0.1 * mean, 1e-6) << "channel " << c;
    EXPECT_NEAR(bn.running_var[c], 0.9 * rv0[c] + 0.1 * var * M / (M - 1), 1e-6) << "channel " << c;
  }
}

TEST_P(BatchNormTest, InferenceUsesRunningStatsAndLeavesThem) {
  Rng rng(62);
  const std::vector<int64_t> shape = GetParam();
  const int64_t C = shape[0];
  Bn bn(C, rng);
  const Tensor rm0 = bn.running_mean, rv0 = bn.running_var;
  Variable x = Constant(testutil::RandomDense(shape, rng));
  Variable y = BatchNorm(x, bn.gamma, bn.beta, bn.running_mean, bn.running_var, 0.1f, 1e-5f, false);
  const int64_t M = x.value().size() / C;
  for (int64_t c = 0; c < C; ++c) {
    EXPECT_EQ(bn.running_mean[c], rm0[c]);
    EXPECT_EQ(bn.running_var[c], rv0[c]);
    for (int64_t i = 0; i < M; ++i) {
      const double expected = bn.gamma.var.value()[c] * (x.value()[c * M + i] - rm0[c]) / std::sqrt(rv0[c] + 1e-5) +
                              bn.beta.var.value()[c];
      ASSERT_NEAR(y.value()[c * M + i], expected, 1e-5) << "channel " << c << ", element " << i;
    }
  }
}

TEST_P(BatchNormTest, GradientsMatchFiniteDifferences) {
  for (bool training : {true, false}) {
    Rng rng(63);
    const std::vector<int64_t> shape = GetParam();
    Bn bn(shape[0], rng);
    Variable x = Leaf(testutil::RandomDense(shape, rng), "x");
    const GradCheckReport r = GradCheck(
        [&] { return BatchNorm(x, bn.gamma, bn.beta, bn.running_mean, bn.running_var, 0.1f, 1e-5f, training); },
        {LeafInput(x), LeafInput(bn.gamma.var), LeafInput(bn.beta.var)});
    EXPECT_TRUE(r.ok) << (training ? "training: " : "inference: ") << r.first_failure;
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, BatchNormTest,
                         ::testing::Values(std::vector<int64_t>{3, 2, 3, 3},  // conv activations
                                           std::vector<int64_t>{4, 5}));      // fully connected [C, N]

// The channel loops are compiled per ISA with the same arithmetic: every ISA the CPU runs gives the same bits, and
// the mean behind the running-mean update is FixedOrderSum's (eight interleaved partials; M = 140 leaves a tail).
TEST(BatchNormOpTest, SameBitsOnEveryIsaAndFixedOrderMean) {
  const std::vector<int64_t> shape = {3, 4, 5, 7};
  const int64_t C = 3, M = 140;
  std::vector<std::vector<float>> results;
  for (Isa isa : SupportedIsas()) {
    LimitIsa(isa);
    Rng rng(64);
    Bn bn(C, rng);
    const Tensor rm0 = bn.running_mean;
    Variable x = Leaf(testutil::RandomDense(shape, rng), "x");
    Variable y = BatchNorm(x, bn.gamma, bn.beta, bn.running_mean, bn.running_var, 0.1f, 1e-5f, true);
    Backward(y, testutil::RandomDense(shape, rng));
    for (int64_t c = 0; c < C; ++c) {
      const float* xc = x.value().data() + c * M;
      const double mu = FixedOrderSum(M, [xc](int64_t i) { return static_cast<double>(xc[i]); }) / M;
      EXPECT_EQ(bn.running_mean[c], static_cast<float>((1.0 - 0.1f) * rm0[c] + 0.1f * mu)) << IsaName(isa);
    }
    std::vector<float> r(y.value().data(), y.value().data() + y.value().size());
    r.insert(r.end(), x.grad().data(), x.grad().data() + x.grad().size());
    r.insert(r.end(), bn.gamma.var.grad().data(), bn.gamma.var.grad().data() + C);
    r.insert(r.end(), bn.beta.var.grad().data(), bn.beta.var.grad().data() + C);
    r.insert(r.end(), bn.running_var.data(), bn.running_var.data() + C);
    results.push_back(std::move(r));
  }
  LimitIsa(Isa::kAvx512);
  for (size_t i = 1; i < results.size(); ++i) {
    EXPECT_TRUE(testutil::BitIdentical(results[0].data(), results[i].data(), results[0].size()))
        << IsaName(SupportedIsas()[i]) << " against " << IsaName(SupportedIsas()[0]);
  }
}

TEST(BatchNormOpTest, BadInputsThrow) {
  Rng rng(64);
  Bn bn(3, rng);
  EXPECT_THROW(BatchNorm(Constant(Tensor({4, 2})), bn.gamma, bn.beta, bn.running_mean, bn.running_var, 0.1f, 1e-5f,
                         true),
               Error);  // 4 channels, parameters for 3
  EXPECT_THROW(BatchNorm(Constant(Tensor({3, 1})), bn.gamma, bn.beta, bn.running_mean, bn.running_var, 0.1f, 1e-5f,
                         true),
               Error);  // one value per channel in training
  EXPECT_THROW(BatchNorm(Constant(Tensor({3, 2})), bn.gamma, bn.beta, bn.running_mean, bn.running_var, 0.1f, 0.0f,
                         true),
               Error);  // eps 0
}

}  // namespace
}  // namespace engine
