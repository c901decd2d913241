// Add: values, finite-difference gradients, a variable added to itself, and the shape check.
#include "engine/ops/add.h"

#include <gtest/gtest.h>

#include "engine/autograd/gradcheck.h"
#include "engine/base/check.h"
#include "tests/testutil/testutil.h"

namespace engine {
namespace {

TEST(AddTest, ValuesAndGradients) {
  Rng rng(41);
  Variable a = Leaf(testutil::RandomDense({2, 3, 2, 2}, rng), "a");
  Variable b = Leaf(testutil::RandomDense({2, 3, 2, 2}, rng), "b");
  Variable y = Add(a, b);
  for (int64_t i = 0; i < y.value().size(); ++i) EXPECT_EQ(y.value()[i], a.value()[i] + b.value()[i]);
  const GradCheckReport r = GradCheck([&] { return Add(a, b); }, {LeafInput(a), LeafInput(b)});
  EXPECT_TRUE(r.ok) << r.first_failure;
}

TEST(AddTest, SameVariableTwiceGetsTwiceTheGradient) {
  Tensor t({3});
  t.Fill(0.5f);
  Variable a = Leaf(t, "a");
  Tensor seed({3});
  seed.Fill(1.5f);
  Backward(Add(a, a), seed);
  for (int64_t i = 0; i < 3; ++i) EXPECT_EQ(a.grad()[i], 3.0f);
}

TEST(AddTest, ShapeMismatchThrows) {
  EXPECT_THROW(Add(Constant(Tensor({2, 3})), Constant(Tensor({3, 2}))), Error);
}

}  // namespace
}  // namespace engine
