// Tests for rigl/drop_schedule: the reference's global-step patterns (RIGL.md §5), update-step semantics, drop
// fractions computed by hand, k in float32, and the Zhu-Gupta pruning schedule.
#include "rigl/drop_schedule.h"

#include <cmath>
#include <vector>

#include "engine/base/check.h"
#include "gtest/gtest.h"

namespace rigl {
namespace {

DropScheduleConfig Config(int64_t begin, int64_t end, int64_t interval, double alpha = 0.5) {
  DropScheduleConfig c;
  c.begin_step = begin;
  c.end_step = end;
  c.update_interval = interval;
  c.initial_drop_fraction = alpha;
  return c;
}

// ---- RigL: the update replaces the optimizer step (sparse_optimizers_test testApplyGradients) ----
struct PatternCase {
  int64_t begin, end, interval;
  std::vector<int> increments;  // 1 = optimizer step (t += 1), 0 = mask update (t frozen)
};
const PatternCase kPatterns[] = {
    {3, 7, 2, {1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1}},
    {1, 5, 3, {1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1}},
    {0, 4, 1, {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1}},
};

class RiglIncrementPattern : public ::testing::TestWithParam<PatternCase> {};

TEST_P(RiglIncrementPattern, MatchesReference) {
  const PatternCase& c = GetParam();
  StepDriver driver(Config(c.begin, c.end, c.interval), UpdatePlacement::kReplacesOptimizerStep);
  for (size_t i = 0; i < c.increments.size(); ++i) {
    const int64_t before = driver.global_step();
    const IterationPlan plan = driver.Next();
    EXPECT_EQ(plan.step_before, before);
    EXPECT_EQ(driver.global_step() - before, c.increments[i]) << "iteration " << i;
    EXPECT_EQ(plan.optimizer_step, c.increments[i] == 1) << "iteration " << i;
    EXPECT_EQ(plan.mask_update, c.increments[i] == 0) << "iteration " << i;
    if (plan.mask_update) {
      EXPECT_EQ(plan.update_step, before);
    }
  }
}
INSTANTIATE_TEST_SUITE_P(RiglMd5, RiglIncrementPattern, ::testing::ValuesIn(kPatterns));

TEST(RiglIncrementPattern, FirstUpdateAtStepZeroBeforeAnySgdStep) {
  StepDriver driver(Config(0, 75000, 100, 0.3), UpdatePlacement::kReplacesOptimizerStep);
  const IterationPlan first = driver.Next();
  EXPECT_TRUE(first.mask_update);
  EXPECT_FALSE(first.optimizer_step);
  EXPECT_EQ(first.update_step, 0);
  EXPECT_FLOAT_EQ(driver.schedule().DropFraction(0), 0.3f);
  // Per ΔT + 1 batches: ΔT SGD steps and one update.
  int updates = 0, steps = 0;
  for (int i = 0; i < 100; ++i) {
    const IterationPlan p = driver.Next();
    updates += p.mask_update;
    steps += p.optimizer_step;
  }
  EXPECT_EQ(steps, 100);
  EXPECT_EQ(updates, 0);
  EXPECT_TRUE(driver.Next().mask_update);  // t = 100
}

// ---- SET / SNFS: update after the optimizer step (testUpdateIterations, 1-based iterations) ----
TEST(SetIterations, UpdatesOnlyOnIterationsOneAndThree) {
  StepDriver driver(Config(1, 4, 2), UpdatePlacement::kAfterOptimizerStep);
  std::vector<int> updated_iterations;
  for (int i = 1; i <= 6; ++i) {
    const IterationPlan p = driver.Next();
    EXPECT_TRUE(p.optimizer_step);
    EXPECT_EQ(driver.global_step(), i);  // every iteration increments
    if (p.mask_update) {
      updated_iterations.push_back(i);
      EXPECT_EQ(p.update_step, i);  // the post-increment step
    }
  }
  EXPECT_EQ(updated_iterations, (std::vector<int>{1, 3}));
}

TEST(SetIterations, BeginZeroFirstUpdateAfterFirstStep) {
  StepDriver driver(Config(0, 10, 5), UpdatePlacement::kAfterOptimizerStep);
  const IterationPlan p = driver.Next();
  EXPECT_TRUE(p.optimizer_step);
  EXPECT_TRUE(p.mask_update);
  EXPECT_EQ(p.update_step, 1);
}

// ---- IsUpdateStep semantics ----
TEST(IsUpdateStep, InclusiveRangeAndInterval) {
  const DropSchedule s(Config(10, 20, 5));
  EXPECT_EQ(s.InitialLastUpdate(), -5);
  EXPECT_FALSE(s.IsUpdateStep(9, -5));   // before begin
  EXPECT_TRUE(s.IsUpdateStep(10, -5));   // begin is inclusive
  EXPECT_FALSE(s.IsUpdateStep(14, 10));  // 10 + 5 > 14
  EXPECT_TRUE(s.IsUpdateStep(15, 10));
  EXPECT_TRUE(s.IsUpdateStep(20, 15));   // end is inclusive
  EXPECT_FALSE(s.IsUpdateStep(21, 15));  // after end
}

// ---- drop fractions by hand ----
TEST(DropFraction, CosineByHand) {
  DropScheduleConfig c = Config(0, 100, 10, 0.3);
  const DropSchedule s(c);
  EXPECT_FLOAT_EQ(s.DropFraction(0), 0.3f);
  EXPECT_FLOAT_EQ(s.DropFraction(50), 0.15f);                 // cos(π/2) = 0
  EXPECT_FLOAT_EQ(s.DropFraction(25), 0.15f * (1.0f + 0.70710678f));  // cos(π/4)
  EXPECT_FLOAT_EQ(s.DropFraction(75), 0.15f * (1.0f - 0.70710678f));
  EXPECT_EQ(s.DropFraction(100), 0.0f);                       // exactly zero at T_end
  EXPECT_EQ(s.DropFraction(150), 0.0f);                       // min(t, end - begin)
  EXPECT_EQ(s.DropCount(1000, 100), 0);
}

TEST(DropFraction, CosineUsesRawStepNotStepMinusBegin) {
  // begin = 20, end = 120: decay_steps = 100 and f(t) uses t itself, so f(50) = α·½(1 + cos(π/2)) = α/2.
  const DropSchedule s(Config(20, 120, 10, 0.4));
  EXPECT_FLOAT_EQ(s.DropFraction(50), 0.2f);
  EXPECT_FLOAT_EQ(s.DropFraction(20), 0.2f * (1.0f + static_cast<float>(std::cos(M_PI * 0.2))));
  EXPECT_EQ(s.DropFraction(120), 0.0f);  // clipped at decay_steps = 100
}

TEST(DropFraction, ConstantAndExponential) {
  DropScheduleConfig c = Config(0, 100, 10, 0.3);
  c.decay = DropDecay::kConstant;
  EXPECT_FLOAT_EQ(DropSchedule(c).DropFraction(77), 0.3f);
  ParseDropDecay("exponential_3", &c);
  EXPECT_EQ(c.decay, DropDecay::kExponentialK);
  EXPECT_EQ(c.exponent_k, 3.0);
  c.begin_step = 20;
  const DropSchedule s(c);
  EXPECT_FLOAT_EQ(s.DropFraction(20), 0.3f);
  EXPECT_FLOAT_EQ(s.DropFraction(60), 0.3f * 0.125f);  // (1 - 40/80)^3
  EXPECT_EQ(s.DropFraction(100), 0.0f);
  c.exponent_k = 1.0;
  EXPECT_FLOAT_EQ(DropSchedule(c).DropFraction(40), 0.3f * 0.75f);  // linear
}

TEST(DropCount, TruncatesFloat32Product) {
  const DropSchedule s(Config(0, 100, 10, 0.3));
  EXPECT_EQ(s.DropCount(18715, 0), 5614);  // 18715 * 0.3 = 5614.5 -> 5614
  EXPECT_EQ(s.DropCount(10, 0), 3);        // 10 * 0.3f = 3.0000001 in float32 -> 3
  EXPECT_EQ(s.DropCount(3, 0), 0);         // 0.9 -> 0
  EXPECT_EQ(s.DropCount(0, 0), 0);
  // Reproduce the float32 product independently.
  const float f50 = s.DropFraction(50);
  EXPECT_EQ(s.DropCount(12345, 50), static_cast<int64_t>(12345.0f * f50));
}

TEST(DropSchedule, InvalidConfigsAreErrors) {
  EXPECT_THROW(DropSchedule(Config(0, 100, 0)), engine::Error);        // ΔT = 0
  EXPECT_THROW(DropSchedule(Config(0, 100, 10, 1.5)), engine::Error);  // α > 1
  EXPECT_THROW(DropSchedule(Config(50, 50, 10)), engine::Error);       // cosine needs end > begin
  DropScheduleConfig c;
  EXPECT_THROW(ParseDropDecay("linear", &c), engine::Error);
  EXPECT_THROW(ParseDropDecay("exponential_x", &c), engine::Error);
}

// ---- Zhu-Gupta gradual pruning ----
TEST(PruningSchedule, CubicByHand) {
  PruningScheduleConfig c;
  c.initial_sparsity = 0.0;
  c.final_sparsity = 0.9;
  c.begin_step = 10000;
  c.end_step = 25000;
  c.frequency = 1000;
  EXPECT_EQ(PruningSparsity(c, 0), 0.0);       // before begin: s_i
  EXPECT_EQ(PruningSparsity(c, 10000), 0.0);
  EXPECT_NEAR(PruningSparsity(c, 17500), 0.9 - 0.9 * 0.125, 1e-15);       // p = 1/2
  EXPECT_NEAR(PruningSparsity(c, 13000), 0.9 - 0.9 * 0.8 * 0.8 * 0.8, 1e-15);  // p = 1/5
  EXPECT_NEAR(PruningSparsity(c, 25000), 0.9, 1e-15);
  EXPECT_NEAR(PruningSparsity(c, 32000), 0.9, 1e-15);  // after end: s_f
  EXPECT_TRUE(IsPruningStep(c, 10000));
  EXPECT_TRUE(IsPruningStep(c, 25000));
  EXPECT_FALSE(IsPruningStep(c, 10500));
  EXPECT_FALSE(IsPruningStep(c, 9000));
  EXPECT_FALSE(IsPruningStep(c, 26000));
  c.initial_sparsity = 0.5;
  EXPECT_NEAR(PruningSparsity(c, 17500), 0.9 - 0.4 * 0.125, 1e-15);
  c.end_step = c.begin_step;
  EXPECT_THROW(PruningSparsity(c, 0), engine::Error);
}

}  // namespace
}  // namespace rigl
