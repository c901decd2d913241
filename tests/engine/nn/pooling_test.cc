// Pooling and flatten modules in a Sequential: shapes through a small conv-style head and the wrapped ops' values.
#include "engine/nn/pooling.h"

#include <gtest/gtest.h>

#include "engine/nn/flatten.h"
#include "engine/nn/sequential.h"
#include "tests/testutil/testutil.h"

namespace engine::nn {
namespace {

TEST(PoolingModulesTest, HeadShapesAndValues) {
  Rng rng(81);
  const Tensor x = testutil::RandomDense({3, 2, 8, 8}, rng);
  Sequential head;
  head.Emplace<MaxPool2dModule>(2, 2);
  head.Emplace<AvgPool2dModule>(2, 2);
  head.Emplace<FlattenModule>();
  Variable y = head.Forward(Constant(x));
  EXPECT_EQ(y.shape(), (std::vector<int64_t>{3 * 2 * 2, 2}));
  // Feature (c=1, h=0, w=1) of sample 1: mean of four 2x2 maxima over rows 0-3, cols 4-7 of plane (1, 1).
  const float* plane = x.data() + (1 * 2 + 1) * 64;
  double sum = 0;
  for (int64_t ph = 0; ph < 2; ++ph)
    for (int64_t pw = 2; pw < 4; ++pw) {
      float m = -1e30f;
      for (int64_t r = 0; r < 2; ++r)
        for (int64_t s = 0; s < 2; ++s) m = std::max(m, plane[(2 * ph + r) * 8 + 2 * pw + s]);
      sum += m;
    }
  EXPECT_NEAR(y.value()[(1 * 4 + 0 * 2 + 1) * 2 + 1], sum / 4, 1e-6);
}

TEST(PoolingModulesTest, GlobalAvgPool) {
  Rng rng(82);
  GlobalAvgPoolModule gap;
  Variable y = gap.Forward(Constant(testutil::RandomDense({4, 3, 2, 2}, rng)));
  EXPECT_EQ(y.shape(), (std::vector<int64_t>{4, 3}));
}

}  // namespace
}  // namespace engine::nn
