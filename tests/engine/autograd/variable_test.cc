// Tests for Variable and Backward(): seeding, accumulation into shared parents, graph freeing, and errors.
#include "engine/autograd/variable.h"

#include <gtest/gtest.h>

#include "engine/base/check.h"
#include "engine/ops/activations.h"

namespace engine {
namespace {

// y = 3 * x (elementwise), written as a raw op to test the engine without depending on op files.
Variable Triple(const Variable& x) {
  Tensor y(x.shape());
  for (int64_t i = 0; i < y.size(); ++i) y[i] = 3 * x.value()[i];
  return MakeResult(std::move(y), {x}, [x](const Tensor& d_y) {
    for (int64_t i = 0; i < d_y.size(); ++i) x.grad()[i] += 3 * d_y[i];
  }, "triple");
}

// s = sum(a) + sum(b), a [n], b [n] -> [1].
Variable SumTwo(const Variable& a, const Variable& b) {
  Tensor s({1});
  for (int64_t i = 0; i < a.value().size(); ++i) s[0] += a.value()[i] + b.value()[i];
  return MakeResult(std::move(s), {a, b}, [a, b](const Tensor& d_s) {
    for (int64_t i = 0; i < a.value().size(); ++i) {
      if (a.requires_grad()) a.grad()[i] += d_s[0];
      if (b.requires_grad()) b.grad()[i] += d_s[0];
    }
  }, "sum_two");
}

Tensor Vec(std::initializer_list<float> v) {
  Tensor t({static_cast<int64_t>(v.size())});
  int64_t i = 0;
  for (float x : v) t[i++] = x;
  return t;
}

TEST(BackwardTest, DiamondAccumulatesBothPaths) {
  // s = sum(3x) + sum(relu(3x)): x reaches s along two paths through the shared node 3x.
  Variable x = Leaf(Vec({1.0f, -2.0f}), "x");
  Variable t = Triple(x);
  Variable s = SumTwo(t, Relu(t));
  Backward(s);
  // ds/dx = 3 * (1 + [3x > 0]).
  EXPECT_FLOAT_EQ(x.grad()[0], 6.0f);
  EXPECT_FLOAT_EQ(x.grad()[1], 3.0f);
}

TEST(BackwardTest, LeafGradientsAccumulateAcrossPasses) {
  Variable x = Leaf(Vec({1.0f, 2.0f}), "x");
  Backward(SumTwo(Triple(x), Constant(Vec({0, 0}))));
  Backward(SumTwo(Triple(x), Constant(Vec({0, 0}))));
  EXPECT_FLOAT_EQ(x.grad()[0], 6.0f);
  EXPECT_FLOAT_EQ(x.grad()[1], 6.0f);
}

TEST(BackwardTest, ConstantsGetNoGraph) {
  Variable c = Constant(Vec({1.0f}));
  Variable y = Triple(c);
  EXPECT_FALSE(y.requires_grad());
  EXPECT_EQ(y.node()->parents.size(), 0u);
  EXPECT_THROW(Backward(y), Error);
}

TEST(BackwardTest, NoGradGuardRecordsNoGraphAndRestores) {
  Variable x = Leaf(Vec({1.0f, 2.0f}), "x");
  {
    NoGradGuard guard;
    EXPECT_FALSE(GradEnabled());
    Variable y = Triple(x);
    EXPECT_FALSE(y.requires_grad()) << "results under the guard take no gradient";
    EXPECT_EQ(y.node()->parents.size(), 0u) << "and keep no parents (their activations can be freed)";
    EXPECT_FLOAT_EQ(y.value()[1], 6.0f) << "the forward value is still computed";
  }
  EXPECT_TRUE(GradEnabled());
  Variable y = Triple(x);
  EXPECT_TRUE(y.requires_grad()) << "recording resumes after the guard";
}

TEST(BackwardTest, GraphIsFreedAndSecondBackwardThrows) {
  Variable x = Leaf(Vec({1.0f}), "x");
  Variable t = Triple(x);
  Variable s = SumTwo(t, t);
  Backward(s);
  EXPECT_EQ(s.node()->parents.size(), 0u);
  EXPECT_FALSE(static_cast<bool>(t.node()->backward));
  EXPECT_FALSE(t.has_grad());  // intermediate gradient released
  EXPECT_TRUE(x.has_grad());   // leaf gradient kept
  EXPECT_THROW(Backward(s), Error);
}

TEST(BackwardTest, NonScalarLossThrows) {
  Variable x = Leaf(Vec({1.0f, 2.0f}), "x");
  try {
    Backward(Triple(x));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("exactly one element"), std::string::npos) << e.what();
  }
}

TEST(BackwardTest, SeedShapeMismatchThrows) {
  Variable x = Leaf(Vec({1.0f, 2.0f}), "x");
  EXPECT_THROW(Backward(Triple(x), Vec({1.0f})), Error);
}

}  // namespace
}  // namespace engine
