// DropoutModule: a new mask per training forward, replayable through set_step, identity in inference.
#include "engine/nn/dropout.h"

#include <gtest/gtest.h>

#include "engine/base/check.h"
#include "tests/testutil/testutil.h"

namespace engine::nn {
namespace {

TEST(DropoutModuleTest, FreshMaskPerStepAndReplayable) {
  DropoutModule drop("drop", 0.5f, 3);
  Tensor ones({200});
  ones.Fill(1.0f);
  const Tensor a = drop.Forward(Constant(ones)).value();
  const Tensor b = drop.Forward(Constant(ones)).value();
  EXPECT_EQ(drop.step(), 2u);
  int64_t differ = 0;
  for (int64_t i = 0; i < 200; ++i) differ += a[i] != b[i];
  EXPECT_GT(differ, 50);
  drop.set_step(0);
  const Tensor again = drop.Forward(Constant(ones)).value();
  EXPECT_TRUE(testutil::BitIdentical(a.data(), again.data(), 200));
}

TEST(DropoutModuleTest, InferenceIsIdentityAndKeepsStep) {
  DropoutModule drop("drop", 0.5f, 3);
  drop.SetTraining(false);
  Variable x = Constant(Tensor({10}));
  EXPECT_EQ(drop.Forward(x).node(), x.node());
  EXPECT_EQ(drop.step(), 0u);
}

TEST(DropoutModuleTest, BadPThrows) { EXPECT_THROW(DropoutModule("drop", 1.0f, 1), Error); }

}  // namespace
}  // namespace engine::nn
