// Tests that the gradient checker accepts a correct gradient and, crucially, rejects a wrong one.
#include "engine/autograd/gradcheck.h"

#include <gtest/gtest.h>

namespace engine {
namespace {

// y = x², with a backward that is correct (factor 2) or deliberately wrong (factor 2.1).
Variable Square(const Variable& x, float factor) {
  Tensor y(x.shape());
  for (int64_t i = 0; i < y.size(); ++i) y[i] = x.value()[i] * x.value()[i];
  return MakeResult(std::move(y), {x}, [x, factor](const Tensor& d_y) {
    for (int64_t i = 0; i < d_y.size(); ++i) x.grad()[i] += factor * x.value()[i] * d_y[i];
  }, "square");
}

Tensor Values() {
  Tensor t({2, 3});
  for (int64_t i = 0; i < t.size(); ++i) t[i] = 0.3f * static_cast<float>(i) - 0.7f;
  return t;
}

TEST(GradCheckTest, AcceptsCorrectGradient) {
  Variable x = Leaf(Values(), "x");
  const GradCheckReport r = GradCheck([&] { return Square(x, 2.0f); }, {LeafInput(x)});
  EXPECT_TRUE(r.ok) << r.first_failure;
  EXPECT_EQ(r.checked, 6);
}

TEST(GradCheckTest, RejectsWrongGradient) {
  Variable x = Leaf(Values(), "x");
  const GradCheckReport r = GradCheck([&] { return Square(x, 2.1f); }, {LeafInput(x)});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.first_failure.find("x["), std::string::npos) << r.first_failure;
}

TEST(GradCheckTest, RestoresInputs) {
  Variable x = Leaf(Values(), "x");
  GradCheck([&] { return Square(x, 2.0f); }, {LeafInput(x)});
  const Tensor expected = Values();
  for (int64_t i = 0; i < expected.size(); ++i) EXPECT_EQ(x.value()[i], expected[i]);
}

}  // namespace
}  // namespace engine
