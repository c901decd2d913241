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

}  // namespace
}  // namespace engine
