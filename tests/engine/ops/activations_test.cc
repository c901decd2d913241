// Activation ops: values and finite-difference gradients (inputs kept away from ReLU's kink).
#include "engine/ops/activations.h"

#include <gtest/gtest.h>

#include "engine/autograd/gradcheck.h"
#include "tests/testutil/testutil.h"

namespace engine {
namespace {

// Values in ±[0.1, 1): at least 10 eps from 0, so finite differences never straddle the kink.
Tensor AwayFromZero(std::vector<int64_t> shape, Rng& rng) {
  Tensor t(std::move(shape));
  for (int64_t i = 0; i < t.size(); ++i) t[i] = (rng.Uniform() < 0.5 ? -1.0f : 1.0f) * rng.UniformFloat(0.1f, 1.0f);
  return t;
}

TEST(ReluTest, Values) {
  Tensor t({4});
  t[0] = -1.5f; t[1] = 0.0f; t[2] = 2.5f; t[3] = -0.0f;
  Variable y = Relu(Constant(t));
  EXPECT_EQ(y.value()[0], 0.0f);
  EXPECT_EQ(y.value()[1], 0.0f);
  EXPECT_EQ(y.value()[2], 2.5f);
  EXPECT_EQ(y.value()[3], 0.0f);
}

TEST(ReluTest, GradientMatchesFiniteDifferences) {
  Rng rng(21);
  Variable x = Leaf(AwayFromZero({3, 2, 2, 2}, rng), "x");
  const GradCheckReport r = GradCheck([&] { return Relu(x); }, {LeafInput(x)});
  EXPECT_TRUE(r.ok) << r.first_failure;
}

TEST(Relu6Test, ClampsToZeroAndSix) {
  const float in[] = {-1.5f, 0.0f, 2.5f, 6.0f, 7.25f, 5.999f};
  const float want[] = {0.0f, 0.0f, 2.5f, 6.0f, 6.0f, 5.999f};
  Tensor t({6});
  for (int i = 0; i < 6; ++i) t[i] = in[i];
  Variable y = Relu6(Constant(t));
  for (int i = 0; i < 6; ++i) EXPECT_EQ(y.value()[i], want[i]) << in[i];
}

TEST(Relu6Test, GradientMatchesFiniteDifferences) {
  // Values in ±[0.1, 1) scaled by 8: some below 0, some inside (0, 6), some above 6, none near a kink.
  Rng rng(22);
  Tensor t = AwayFromZero({3, 2, 2, 2}, rng);
  for (int64_t i = 0; i < t.size(); ++i) t[i] = t[i] * 8.0f + (t[i] > 0.0f && t[i] * 8.0f > 5.5f ? 1.0f : 0.0f);
  Variable x = Leaf(t, "x");
  const GradCheckReport r = GradCheck([&] { return Relu6(x); }, {LeafInput(x)});
  EXPECT_TRUE(r.ok) << r.first_failure;
  // dx is dy inside (0, 6), 0 outside: checked by hand for each element.
  Variable y = Relu6(x);
  Tensor ones(y.value().shape());
  for (int64_t i = 0; i < ones.size(); ++i) ones[i] = 1.0f;
  x.grad().Fill(0.0f);
  Backward(y, ones);
  for (int64_t i = 0; i < t.size(); ++i) EXPECT_EQ(x.grad()[i], t[i] > 0.0f && t[i] < 6.0f ? 1.0f : 0.0f) << t[i];
}

}  // namespace
}  // namespace engine
