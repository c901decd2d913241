// Pooling: values against a direct double-precision computation on small hand-checkable inputs, gradients against
// finite differences (max-pool inputs have distinct values 0.05 apart, so the arg-max never flips under eps),
// global average pooling, and argument checks.
#include "engine/ops/pooling.h"

#include <algorithm>
#include <numeric>

#include <gtest/gtest.h>

#include "engine/autograd/gradcheck.h"
#include "engine/base/check.h"
#include "tests/testutil/testutil.h"

namespace engine {
namespace {

// A random permutation of 0, 0.05, 0.10, ... centred on 0.
Tensor DistinctValues(std::vector<int64_t> shape, Rng& rng) {
  Tensor t(std::move(shape));
  std::vector<int64_t> order(t.size());
  std::iota(order.begin(), order.end(), 0);
  for (int64_t i = t.size() - 1; i > 0; --i) std::swap(order[i], order[rng.UniformInt(i + 1)]);
  for (int64_t i = 0; i < t.size(); ++i) t[i] = 0.05f * static_cast<float>(order[i] - t.size() / 2);
  return t;
}

// One plane [1, 1, 4, 4] holding 0..15 row by row.
Tensor Ramp() {
  Tensor t({1, 1, 4, 4});
  for (int64_t i = 0; i < 16; ++i) t[i] = static_cast<float>(i);
  return t;
}

TEST(MaxPool2dTest, ValuesByHand) {
  Variable y = MaxPool2d(Constant(Ramp()), 2, 2);
  ASSERT_EQ(y.shape(), (std::vector<int64_t>{1, 1, 2, 2}));
  EXPECT_EQ(y.value()[0], 5);
  EXPECT_EQ(y.value()[1], 7);
  EXPECT_EQ(y.value()[2], 13);
  EXPECT_EQ(y.value()[3], 15);
  // 3x3 stride 2 padding 1 (ResNet stem): output 2x2, windows clipped at the border.
  Variable z = MaxPool2d(Constant(Ramp()), 3, 2, 1);
  ASSERT_EQ(z.shape(), (std::vector<int64_t>{1, 1, 2, 2}));
  EXPECT_EQ(z.value()[0], 5);   // rows 0-1, cols 0-1
  EXPECT_EQ(z.value()[1], 7);   // rows 0-1, cols 1-3
  EXPECT_EQ(z.value()[3], 15);  // rows 1-3, cols 1-3
}

TEST(MaxPool2dTest, GradientMatchesFiniteDifferences) {
  Rng rng(51);
  Variable x = Leaf(DistinctValues({2, 3, 5, 5}, rng), "x");
  for (auto [k, s, p] : {std::tuple{2, 2, 0}, std::tuple{3, 2, 1}, std::tuple{3, 1, 0}}) {
    x.grad().SetZero();
    const GradCheckReport r = GradCheck([&] { return MaxPool2d(x, k, s, p); }, {LeafInput(x)});
    EXPECT_TRUE(r.ok) << "kernel " << k << " stride " << s << " padding " << p << ": " << r.first_failure;
  }
}

// The 2x2 stride-2 windows (their own fast path) on odd planes, where the last row and column belong to no window,
// with many ties (values from {-1, 0, 1}): each output is the window's maximum and its gradient goes to the first
// maximum in row-major order (the rule of every max-pool here, and PyTorch's on CPU), nowhere else.
TEST(MaxPool2dTest, TwoByTwoStrideTwoOnOddPlanesWithTies) {
  Rng rng(7);
  for (auto [h, w] : {std::pair{5, 7}, std::pair{4, 4}, std::pair{2, 3}, std::pair{9, 2}}) {
    Tensor t({3, 2, h, w});
    for (int64_t i = 0; i < t.size(); ++i) t[i] = static_cast<float>(static_cast<int64_t>(rng.UniformInt(3)) - 1);
    Variable x = Leaf(t, "x");
    Variable y = MaxPool2d(x, 2, 2);
    const int64_t P = h / 2, Q = w / 2;
    ASSERT_EQ(y.shape(), (std::vector<int64_t>{3, 2, P, Q}));
    Tensor d_y(y.shape());
    for (int64_t i = 0; i < d_y.size(); ++i) d_y[i] = 1.0f + static_cast<float>(i);
    Backward(y, d_y);
    Tensor want_dx({3, 2, h, w});
    want_dx.SetZero();
    for (int64_t plane = 0; plane < 6; ++plane) {
      for (int64_t p = 0; p < P; ++p) {
        for (int64_t q = 0; q < Q; ++q) {
          int64_t first = -1;
          for (int64_t r = 0; r < 2; ++r) {
            for (int64_t c = 0; c < 2; ++c) {
              const int64_t at = plane * h * w + (2 * p + r) * w + 2 * q + c;
              if (first < 0 || t[at] > t[first]) first = at;
            }
          }
          const int64_t o = (plane * P + p) * Q + q;
          EXPECT_EQ(y.value()[o], t[first]) << h << "x" << w << " plane " << plane << " window " << p << "," << q;
          want_dx[first] += d_y[o];
        }
      }
    }
    for (int64_t i = 0; i < t.size(); ++i) EXPECT_EQ(x.grad()[i], want_dx[i]) << h << "x" << w << " at " << i;
  }
}

TEST(AvgPool2dTest, ValuesByHand) {
  Variable y = AvgPool2d(Constant(Ramp()), 2, 2);
  EXPECT_FLOAT_EQ(y.value()[0], (0 + 1 + 4 + 5) / 4.0f);
  EXPECT_FLOAT_EQ(y.value()[3], (10 + 11 + 14 + 15) / 4.0f);
  Variable z = AvgPool2d(Constant(Ramp()), 3, 2, 1);  // padding counts as zeros
  EXPECT_FLOAT_EQ(z.value()[0], (0 + 1 + 4 + 5) / 9.0f);
}

TEST(AvgPool2dTest, GradientMatchesFiniteDifferences) {
  Rng rng(52);
  Variable x = Leaf(testutil::RandomDense({2, 2, 5, 4}, rng), "x");
  for (auto [k, s, p] : {std::tuple{2, 2, 0}, std::tuple{3, 2, 1}, std::tuple{2, 1, 1}}) {
    x.grad().SetZero();
    const GradCheckReport r = GradCheck([&] { return AvgPool2d(x, k, s, p); }, {LeafInput(x)});
    EXPECT_TRUE(r.ok) << "kernel " << k << " stride " << s << " padding " << p << ": " << r.first_failure;
  }
}

TEST(GlobalAvgPoolTest, ValuesAndGradient) {
  Rng rng(53);
  Variable x = Leaf(testutil::RandomDense({3, 2, 4, 3}, rng), "x");
  Variable y = GlobalAvgPool(x);
  ASSERT_EQ(y.shape(), (std::vector<int64_t>{3, 2}));
  for (int64_t plane = 0; plane < 6; ++plane) {
    double sum = 0;
    for (int64_t s = 0; s < 12; ++s) sum += x.value()[plane * 12 + s];
    EXPECT_NEAR(y.value()[plane], sum / 12, 1e-6);
  }
  const GradCheckReport r = GradCheck([&] { return GlobalAvgPool(x); }, {LeafInput(x)});
  EXPECT_TRUE(r.ok) << r.first_failure;
}

TEST(PoolingTest, BadArgumentsThrow) {
  EXPECT_THROW(MaxPool2d(Constant(Tensor({1, 1, 4})), 2, 2), Error);      // rank 3
  EXPECT_THROW(MaxPool2d(Constant(Ramp()), 0, 1), Error);                 // kernel 0
  EXPECT_THROW(MaxPool2d(Constant(Ramp()), 5, 1), Error);                 // kernel larger than input
  EXPECT_THROW(AvgPool2d(Constant(Ramp()), 2, 2, 2), Error);              // padding > kernel / 2
  EXPECT_THROW(GlobalAvgPool(Constant(Tensor({3, 2}))), Error);           // rank 2
}

}  // namespace
}  // namespace engine
