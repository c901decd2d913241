// Learning-rate schedules against values worked out by hand, and option validation.
#include "engine/optim/lr_schedule.h"

#include <gtest/gtest.h>

#include "engine/base/check.h"

namespace engine {
namespace {

TEST(LrScheduleTest, Constant) {
  LrScheduleOptions o;
  o.base_lr = 0.3f;
  EXPECT_FLOAT_EQ(LearningRate(o, 0, 10), 0.3f);
  EXPECT_FLOAT_EQ(LearningRate(o, 12345, 10), 0.3f);
}

TEST(LrScheduleTest, StepMilestonesInEpochs) {
  LrScheduleOptions o;
  o.decay = LrDecay::kStep;
  o.milestones = {1, 2.5};
  o.gamma = 0.2f;
  // 10 steps per epoch: milestones at steps 10 and 25.
  EXPECT_FLOAT_EQ(LearningRate(o, 9, 10), 0.1f);
  EXPECT_FLOAT_EQ(LearningRate(o, 10, 10), 0.02f);
  EXPECT_FLOAT_EQ(LearningRate(o, 24, 10), 0.02f);
  EXPECT_FLOAT_EQ(LearningRate(o, 25, 10), 0.004f);
}

TEST(LrScheduleTest, StepMilestonesInSteps) {
  LrScheduleOptions o;
  o.decay = LrDecay::kStep;
  o.in_epochs = false;
  o.milestones = {3};
  EXPECT_FLOAT_EQ(LearningRate(o, 2, 0), 0.1f);  // steps_per_epoch unused
  EXPECT_FLOAT_EQ(LearningRate(o, 3, 0), 0.01f);
}

TEST(LrScheduleTest, CosineToZero) {
  LrScheduleOptions o;
  o.decay = LrDecay::kCosine;
  o.in_epochs = false;
  o.total = 10;
  EXPECT_FLOAT_EQ(LearningRate(o, 0, 1), 0.1f);
  EXPECT_FLOAT_EQ(LearningRate(o, 5, 1), 0.05f);
  EXPECT_NEAR(LearningRate(o, 10, 1), 0.0f, 1e-9);
  EXPECT_NEAR(LearningRate(o, 15, 1), 0.0f, 1e-9);  // stays at 0 past the end
}

TEST(LrScheduleTest, WarmupThenCosine) {
  LrScheduleOptions o;
  o.base_lr = 1.0f;
  o.decay = LrDecay::kCosine;
  o.in_epochs = false;
  o.warmup = 4;
  o.total = 12;
  EXPECT_FLOAT_EQ(LearningRate(o, 0, 1), 0.0f);
  EXPECT_FLOAT_EQ(LearningRate(o, 2, 1), 0.5f);
  EXPECT_FLOAT_EQ(LearningRate(o, 4, 1), 1.0f);
  EXPECT_FLOAT_EQ(LearningRate(o, 8, 1), 0.5f);  // half-way through the 8 cosine steps
  EXPECT_NEAR(LearningRate(o, 12, 1), 0.0f, 1e-7);
}

TEST(LrScheduleTest, WarmupStartFactorThenStep) {
  LrScheduleOptions o;
  o.base_lr = 1.0f;
  o.decay = LrDecay::kStep;
  o.milestones = {2};
  o.warmup = 1;  // one epoch of 4 steps
  o.warmup_start_factor = 0.2f;
  EXPECT_FLOAT_EQ(LearningRate(o, 0, 4), 0.2f);
  EXPECT_FLOAT_EQ(LearningRate(o, 2, 4), 0.6f);
  EXPECT_FLOAT_EQ(LearningRate(o, 4, 4), 1.0f);
  EXPECT_FLOAT_EQ(LearningRate(o, 8, 4), 0.1f);
}

TEST(LrScheduleTest, ParseAndName) {
  EXPECT_EQ(ParseLrDecay("cosine"), LrDecay::kCosine);
  EXPECT_STREQ(LrDecayName(ParseLrDecay("step")), "step");
  EXPECT_THROW(ParseLrDecay("linear"), Error);
}

TEST(LrScheduleTest, BadOptionsThrow) {
  LrScheduleOptions cosine;
  cosine.decay = LrDecay::kCosine;
  cosine.total = 5;
  cosine.warmup = 5;
  EXPECT_THROW(ValidateLrSchedule(cosine), Error);  // total must exceed warmup
  LrScheduleOptions step;
  step.decay = LrDecay::kStep;
  step.milestones = {3, 2};
  EXPECT_THROW(ValidateLrSchedule(step), Error);  // not ascending
  LrScheduleOptions negative;
  negative.base_lr = -1;
  EXPECT_THROW(ValidateLrSchedule(negative), Error);
  LrScheduleOptions epochs;
  EXPECT_THROW(LearningRate(epochs, 0, 0), Error);  // steps_per_epoch 0 with epoch units
  EXPECT_THROW(LearningRate(epochs, -1, 1), Error);
}

}  // namespace
}  // namespace engine
