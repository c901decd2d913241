// SoftmaxCrossEntropy against a hand computation (with and without label smoothing), finite-difference
// gradients, CountCorrect, and label validation.
#include "engine/ops/loss.h"

#include <cmath>

#include <gtest/gtest.h>

#include "engine/autograd/gradcheck.h"
#include "engine/base/check.h"
#include "tests/testutil/testutil.h"

namespace engine {
namespace {

// logits [3 classes, 2 samples]: sample 0 = (1, 2, 3), sample 1 = (0, 0, 0).
Tensor TwoSamples() {
  Tensor z({3, 2});
  z[0] = 1; z[2] = 2; z[4] = 3;  // column 0
  return z;                      // column 1 stays zero
}

TEST(SoftmaxCrossEntropyTest, MatchesHandComputation) {
  // Sample 0, label 2: -log(e^3 / (e + e^2 + e^3)). Sample 1, label 0: log 3.
  const double lse0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  const double expected = ((lse0 - 3.0) + std::log(3.0)) / 2;
  Variable loss = SoftmaxCrossEntropy(Constant(TwoSamples()), {2, 0});
  EXPECT_NEAR(loss.value()[0], expected, 1e-6);
}

TEST(SoftmaxCrossEntropyTest, LabelSmoothingMatchesHandComputation) {
  // s = 0.3, 3 classes: q = 0.1 off-label, 0.8 on-label. loss_n = lse_n - sum_c q_c z_c.
  const double lse0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  const double loss0 = lse0 - (0.1 * 1 + 0.1 * 2 + 0.8 * 3);
  const double loss1 = std::log(3.0) - 0.0;
  Variable loss = SoftmaxCrossEntropy(Constant(TwoSamples()), {2, 0}, 0.3f);
  EXPECT_NEAR(loss.value()[0], (loss0 + loss1) / 2, 1e-6);
}

TEST(SoftmaxCrossEntropyTest, GradientIsSoftmaxMinusTarget) {
  Variable z = Leaf(TwoSamples(), "z");
  Backward(SoftmaxCrossEntropy(z, {2, 0}, 0.3f));
  const double denom = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  // Sample 0, class 2: (softmax - 0.8) / batch. Sample 1, class 1: (1/3 - 0.1) / batch.
  EXPECT_NEAR(z.grad()[4], (std::exp(3.0) / denom - 0.8) / 2, 1e-6);
  EXPECT_NEAR(z.grad()[3], (1.0 / 3 - 0.1) / 2, 1e-6);
}

TEST(SoftmaxCrossEntropyTest, GradientMatchesFiniteDifferences) {
  Rng rng(31);
  Variable z = Leaf(testutil::RandomDense({5, 4}, rng), "z");
  GradCheckOptions options;
  options.atol = 1e-4;
  const GradCheckReport r = GradCheck([&] { return SoftmaxCrossEntropy(z, {0, 4, 2, 2}, 0.1f); }, {LeafInput(z)},
                                      options);
  EXPECT_TRUE(r.ok) << r.first_failure;
}

TEST(SoftmaxCrossEntropyTest, LargeLogitsStayFinite) {
  Tensor z({2, 1});
  z[0] = 1000; z[1] = -1000;
  Variable loss = SoftmaxCrossEntropy(Constant(z), {1});
  EXPECT_NEAR(loss.value()[0], 2000.0, 1e-2);
}

TEST(SoftmaxCrossEntropyTest, BadInputsThrow) {
  EXPECT_THROW(SoftmaxCrossEntropy(Constant(TwoSamples()), {2, 3}), Error);     // label out of range
  EXPECT_THROW(SoftmaxCrossEntropy(Constant(TwoSamples()), {2}), Error);        // wrong label count
  EXPECT_THROW(SoftmaxCrossEntropy(Constant(TwoSamples()), {2, 0}, 1.0f), Error);  // smoothing out of range
}

TEST(CountCorrectTest, CountsArgMaxHits) {
  // Sample 0 arg-max is class 2; sample 1 ties everywhere, so the first class (0) wins.
  EXPECT_EQ(CountCorrect(TwoSamples(), {2, 0}), 2);
  EXPECT_EQ(CountCorrect(TwoSamples(), {1, 1}), 0);
  EXPECT_EQ(CountCorrect(TwoSamples(), {2, 1}), 1);
}

}  // namespace
}  // namespace engine
