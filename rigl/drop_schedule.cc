// Update-step logic, drop-fraction decay and the gradual pruning schedule (see drop_schedule.h).
#include "rigl/drop_schedule.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "engine/base/check.h"

namespace rigl {
namespace {

constexpr double kPi = 3.14159265358979323846;

}  // namespace

void ValidateDropSchedule(const DropScheduleConfig& c) {
  ENGINE_CHECK(c.update_interval >= 1, "drop schedule: update_interval (ΔT) = ", c.update_interval,
               "; expected >= 1");
  ENGINE_CHECK(c.initial_drop_fraction >= 0.0 && c.initial_drop_fraction <= 1.0,
               "drop schedule: initial_drop_fraction (α) = ", c.initial_drop_fraction, "; expected 0 <= α <= 1");
  ENGINE_CHECK(c.begin_step >= 0, "drop schedule: begin_step = ", c.begin_step, "; expected >= 0");
  if (c.decay == DropDecay::kConstant) {
    ENGINE_CHECK(c.end_step >= c.begin_step, "drop schedule: end_step = ", c.end_step, " < begin_step = ",
                 c.begin_step, "; expected end_step >= begin_step");
  } else {
    ENGINE_CHECK(c.end_step > c.begin_step, "drop schedule: end_step = ", c.end_step, ", begin_step = ",
                 c.begin_step, "; expected end_step > begin_step (the decay divides by end - begin)");
  }
  ENGINE_CHECK(c.decay != DropDecay::kExponentialK || (std::isfinite(c.exponent_k) && c.exponent_k > 0.0),
               "drop schedule: exponent_k = ", c.exponent_k, "; expected a finite value > 0");
}

void ParseDropDecay(const std::string& name, DropScheduleConfig* config) {
  if (name == "cosine") {
    config->decay = DropDecay::kCosine;
    return;
  }
  if (name == "constant") {
    config->decay = DropDecay::kConstant;
    return;
  }
  const std::string prefix = "exponential_";
  if (name.compare(0, prefix.size(), prefix) == 0 && name.size() > prefix.size()) {
    const std::string number = name.substr(prefix.size());
    char* end = nullptr;
    const double k = std::strtod(number.c_str(), &end);
    ENGINE_CHECK(end != nullptr && *end == '\0' && k > 0.0, "drop schedule: decay '", name,
                 "' has exponent '", number, "'; expected a positive number, e.g. exponential_3");
    config->decay = DropDecay::kExponentialK;
    config->exponent_k = k;
    return;
  }
  ENGINE_CHECK(false, "drop schedule: decay '", name, "'; expected cosine, constant or exponential_<k>");
}

DropSchedule::DropSchedule(const DropScheduleConfig& config) : config_(config) { ValidateDropSchedule(config_); }

bool DropSchedule::IsUpdateStep(int64_t t, int64_t last_update) const {
  return config_.begin_step <= t && t <= config_.end_step && last_update + config_.update_interval <= t;
}

float DropSchedule::DropFraction(int64_t t) const {
  const double alpha = config_.initial_drop_fraction;
  const double span = static_cast<double>(config_.end_step - config_.begin_step);
  switch (config_.decay) {
    case DropDecay::kConstant: return static_cast<float>(alpha);
    case DropDecay::kCosine: {
      // TF cosine_decay(α, global_step = t, decay_steps = end − begin): the raw t, clipped at decay_steps.
      const double step = std::min(static_cast<double>(t), span);
      return static_cast<float>(alpha * 0.5 * (1.0 + std::cos(kPi * step / span)));
    }
    case DropDecay::kExponentialK: {
      // Only evaluated on update steps in the reference; clipped here so the value stays in [0, α] elsewhere.
      const double p = std::clamp(static_cast<double>(t - config_.begin_step) / span, 0.0, 1.0);
      return static_cast<float>(alpha * std::pow(1.0 - p, config_.exponent_k));
    }
  }
  return 0.0f;
}

int64_t DropCount(int64_t n_active, float fraction) {
  ENGINE_CHECK(n_active >= 0, "DropCount: n_active = ", n_active, "; expected >= 0");
  ENGINE_CHECK(fraction >= 0.0f && fraction <= 1.0f, "DropCount: drop fraction = ", fraction,
               "; expected 0 <= fraction <= 1");
  const float product = static_cast<float>(n_active) * fraction;  // float32, as in the reference
  return static_cast<int64_t>(product);                            // truncation
}

int64_t DropSchedule::DropCount(int64_t n_active, int64_t t) const { return rigl::DropCount(n_active, DropFraction(t)); }

StepDriver::StepDriver(const DropScheduleConfig& config, UpdatePlacement placement)
    : schedule_(config), placement_(placement), last_update_(schedule_.InitialLastUpdate()) {}

void StepDriver::Restore(int64_t global_step, int64_t last_update) {
  ENGINE_CHECK(global_step >= 0 && last_update >= schedule_.InitialLastUpdate() && last_update <= global_step,
               "StepDriver::Restore: t = ", global_step, ", last update = ", last_update, "; expected ",
               schedule_.InitialLastUpdate(), " <= last update <= t");
  global_step_ = global_step;
  last_update_ = last_update;
}

IterationPlan StepDriver::Next() {
  IterationPlan plan;
  plan.step_before = global_step_;
  if (placement_ == UpdatePlacement::kNoUpdates) {
    plan.optimizer_step = true;
    ++global_step_;
    return plan;
  }
  if (placement_ == UpdatePlacement::kReplacesOptimizerStep) {
    if (schedule_.IsUpdateStep(global_step_, last_update_)) {
      plan.mask_update = true;  // this batch feeds the update instead of an SGD step; t stays
      plan.update_step = global_step_;
      last_update_ = global_step_;
    } else {
      plan.optimizer_step = true;
      ++global_step_;
    }
    return plan;
  }
  plan.optimizer_step = true;
  ++global_step_;
  if (schedule_.IsUpdateStep(global_step_, last_update_)) {  // checked on the post-increment step
    plan.mask_update = true;
    plan.update_step = global_step_;
    last_update_ = global_step_;
  }
  return plan;
}

void ValidatePruningSchedule(const PruningScheduleConfig& c) {
  ENGINE_CHECK(c.initial_sparsity >= 0.0 && c.initial_sparsity < 1.0, "pruning schedule: initial_sparsity = ",
               c.initial_sparsity, "; expected 0 <= s_i < 1");
  ENGINE_CHECK(c.final_sparsity >= c.initial_sparsity && c.final_sparsity < 1.0,
               "pruning schedule: final_sparsity = ", c.final_sparsity, "; expected initial_sparsity <= s_f < 1");
  ENGINE_CHECK(c.begin_step >= 0 && c.end_step > c.begin_step, "pruning schedule: begin_step = ", c.begin_step,
               ", end_step = ", c.end_step, "; expected 0 <= begin_step < end_step");
  ENGINE_CHECK(c.frequency >= 1, "pruning schedule: frequency = ", c.frequency, "; expected >= 1");
}

double PruningSparsity(const PruningScheduleConfig& c, int64_t t) {
  ValidatePruningSchedule(c);
  const double p = std::clamp(static_cast<double>(t - c.begin_step) / static_cast<double>(c.end_step - c.begin_step),
                              0.0, 1.0);
  const double remaining = 1.0 - p;
  return c.final_sparsity + (c.initial_sparsity - c.final_sparsity) * remaining * remaining * remaining;
}

bool IsPruningStep(const PruningScheduleConfig& c, int64_t t) {
  ValidatePruningSchedule(c);
  return c.begin_step <= t && t <= c.end_step && (t - c.begin_step) % c.frequency == 0;
}

}  // namespace rigl
