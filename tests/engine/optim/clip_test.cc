// Clipping by global norm against numbers by hand: one dense and one sparse gradient whose joint norm is 13
// (3, 4 | 12), clipped to 6.5 halves every entry; a norm at or under the limit leaves the bits alone; a bad limit is
// refused.
#include "engine/optim/clip.h"

#include <gtest/gtest.h>

#include "engine/base/check.h"
#include "engine/sparse/csr.h"

namespace engine {
namespace {

struct Params {
  DenseParameter dense{"b", Tensor({2})};
  SparseParameter sparse{"w", CsrMatrix::FromParts(2, 2, {0, 1, 1}, {1}, {1.0f})};
  ParameterList list() { return {{&dense}, {&sparse}}; }
  void SetGrads() {
    dense.var.grad()[0] = 3;
    dense.var.grad()[1] = -4;
    sparse.grad[0] = 12;
  }
};

TEST(ClipTest, ScalesEveryGradientToTheLimit) {
  Params p;
  p.SetGrads();
  const ClipResult r = ClipGradientsByGlobalNorm(p.list(), 6.5);
  EXPECT_DOUBLE_EQ(r.norm, 13.0);
  EXPECT_TRUE(r.clipped);
  EXPECT_FLOAT_EQ(p.dense.var.grad()[0], 1.5f);
  EXPECT_FLOAT_EQ(p.dense.var.grad()[1], -2.0f);
  EXPECT_FLOAT_EQ(p.sparse.grad[0], 6.0f);
}

TEST(ClipTest, LeavesANormWithinTheLimitAlone) {
  for (double limit : {13.0, 100.0}) {
    Params p;
    p.SetGrads();
    const ClipResult r = ClipGradientsByGlobalNorm(p.list(), limit);
    EXPECT_FALSE(r.clipped);
    EXPECT_EQ(p.dense.var.grad()[0], 3.0f);
    EXPECT_EQ(p.sparse.grad[0], 12.0f);
  }
}

TEST(ClipTest, RefusesANonPositiveLimit) {
  Params p;
  EXPECT_THROW(ClipGradientsByGlobalNorm(p.list(), 0.0), Error);
  EXPECT_THROW(ClipGradientsByGlobalNorm(p.list(), -1.0), Error);
}

}  // namespace
}  // namespace engine
