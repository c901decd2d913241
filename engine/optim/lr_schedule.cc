// Learning-rate schedules (see lr_schedule.h). Computed in double, rounded once.
#include "engine/optim/lr_schedule.h"

#include <algorithm>
#include <cmath>

#include "engine/base/check.h"

namespace engine {

LrDecay ParseLrDecay(const std::string& name) {
  if (name == "constant") return LrDecay::kConstant;
  if (name == "step") return LrDecay::kStep;
  if (name == "cosine") return LrDecay::kCosine;
  ENGINE_CHECK(false, "lr schedule: decay \"", name, "\" given; expected one of constant, step, cosine");
  return LrDecay::kConstant;
}

const char* LrDecayName(LrDecay decay) {
  switch (decay) {
    case LrDecay::kConstant: return "constant";
    case LrDecay::kStep: return "step";
    case LrDecay::kCosine: return "cosine";
  }
  return "?";
}

void ValidateLrSchedule(const LrScheduleOptions& o) {
  ENGINE_CHECK(o.base_lr >= 0 && std::isfinite(o.base_lr), "lr schedule: base_lr = ", o.base_lr,
               "; expected finite and >= 0");
  ENGINE_CHECK(o.warmup >= 0, "lr schedule: warmup = ", o.warmup, "; expected >= 0");
  ENGINE_CHECK(o.warmup_start_factor >= 0 && o.warmup_start_factor <= 1, "lr schedule: warmup_start_factor = ",
               o.warmup_start_factor, "; expected in [0, 1]");
  if (o.decay == LrDecay::kStep) {
    ENGINE_CHECK(o.gamma > 0, "lr schedule: gamma = ", o.gamma, "; expected > 0");
    for (size_t i = 0; i < o.milestones.size(); ++i) {
      ENGINE_CHECK(o.milestones[i] >= 0, "lr schedule: milestones[", i, "] = ", o.milestones[i], "; expected >= 0");
      ENGINE_CHECK(i == 0 || o.milestones[i] > o.milestones[i - 1], "lr schedule: milestones[", i, "] = ",
                   o.milestones[i], " after ", o.milestones[i - 1], "; expected strictly ascending milestones");
    }
  }
  if (o.decay == LrDecay::kCosine) {
    ENGINE_CHECK(o.total > o.warmup, "lr schedule: cosine total = ", o.total, " with warmup = ", o.warmup,
                 "; expected total > warmup");
  }
}

float LearningRate(const LrScheduleOptions& o, int64_t step, int64_t steps_per_epoch) {
  ValidateLrSchedule(o);
  ENGINE_CHECK(step >= 0, "LearningRate: step = ", step, "; expected >= 0");
  ENGINE_CHECK(!o.in_epochs || steps_per_epoch >= 1, "LearningRate: steps_per_epoch = ", steps_per_epoch,
               "; expected >= 1 when durations are in epochs");
  const double unit = o.in_epochs ? static_cast<double>(steps_per_epoch) : 1.0;
  const double s = static_cast<double>(step);
  const double warmup = o.warmup * unit;
  const double base = o.base_lr;
  if (s < warmup) {
    const double f = o.warmup_start_factor;
    return static_cast<float>(base * (f + (1 - f) * s / warmup));
  }
  switch (o.decay) {
    case LrDecay::kConstant:
      return o.base_lr;
    case LrDecay::kStep: {
      double lr = base;
      for (double m : o.milestones) {
        if (s >= m * unit) lr *= o.gamma;
      }
      return static_cast<float>(lr);
    }
    case LrDecay::kCosine: {
      const double progress = std::min(1.0, (s - warmup) / (o.total * unit - warmup));
      return static_cast<float>(base * 0.5 * (1 + std::cos(3.14159265358979323846 * progress)));
    }
  }
  return o.base_lr;
}

}  // namespace engine
