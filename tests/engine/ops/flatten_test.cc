// Flatten: the exact index mapping (PyTorch feature order c·H·W + h·W + w), gradients, and rank handling.
#include "engine/ops/flatten.h"

#include <gtest/gtest.h>

#include "engine/autograd/gradcheck.h"
#include "engine/base/check.h"
#include "tests/testutil/testutil.h"

namespace engine {
namespace {

TEST(FlattenTest, FeatureOrderIsPyTorchs) {
  const int64_t C = 2, N = 3, H = 2, W = 4;
  Tensor x({C, N, H, W});
  // Encode (c, n, h, w) in the value so the mapping can be read back.
  for (int64_t c = 0; c < C; ++c)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w) x[((c * N + n) * H + h) * W + w] = 1000 * c + 100 * n + 10 * h + w;
  Variable y = Flatten(Constant(x));
  ASSERT_EQ(y.shape(), (std::vector<int64_t>{C * H * W, N}));
  for (int64_t c = 0; c < C; ++c)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w)
          EXPECT_EQ(y.value()[(c * H * W + h * W + w) * N + n], 1000 * c + 100 * n + 10 * h + w);
}

TEST(FlattenTest, GradientMatchesFiniteDifferences) {
  Rng rng(42);
  Variable x = Leaf(testutil::RandomDense({3, 2, 2, 3}, rng), "x");
  const GradCheckReport r = GradCheck([&] { return Flatten(x); }, {LeafInput(x)});
  EXPECT_TRUE(r.ok) << r.first_failure;
}

TEST(FlattenTest, RankTwoPassesThroughOtherRanksThrow) {
  Variable x = Constant(Tensor({4, 2}));
  EXPECT_EQ(Flatten(x).node(), x.node());
  EXPECT_THROW(Flatten(Constant(Tensor({4, 2, 2}))), Error);
}

}  // namespace
}  // namespace engine
