// Learning-rate schedules: constant, step (multiply by gamma at each milestone passed), and cosine (to 0 at the
// end), each optionally preceded by a linear warm-up. Durations are in epochs (fractional allowed) or in steps.
// A pure function of the step, so a resumed run gets the same rates.
#ifndef ENGINE_OPTIM_LR_SCHEDULE_H_
#define ENGINE_OPTIM_LR_SCHEDULE_H_

#include <cstdint>
#include <string>
#include <vector>

namespace engine {

enum class LrDecay { kConstant, kStep, kCosine };

// "constant", "step" or "cosine"; throws naming the value otherwise.
LrDecay ParseLrDecay(const std::string& name);
const char* LrDecayName(LrDecay decay);

struct LrScheduleOptions {
  float base_lr = 0.1f;
  LrDecay decay = LrDecay::kConstant;
  bool in_epochs = true;           // milestones, total and warmup are in epochs (else in steps)
  std::vector<double> milestones;  // kStep: ascending, >= 0; lr = base · gamma^(milestones passed)
  float gamma = 0.1f;              // kStep multiplier
  double total = 0;                // kCosine: lr = 0 from here on; must exceed warmup
  double warmup = 0;               // linear warm-up length (0: none)
  float warmup_start_factor = 0;   // warm-up goes from base · factor (at step 0) towards base (at step warmup)
};

// Throws engine::Error naming the first bad option.
void ValidateLrSchedule(const LrScheduleOptions& options);

// The rate for 0-based `step`. During warm-up (step < warmup): base · (f + (1 - f) · step / warmup). After it:
//   constant  base
//   step      base · gamma^(number of milestones m with step >= m)
//   cosine    base · (1 + cos(π · min(1, (step - warmup) / (total - warmup)))) / 2
// steps_per_epoch must be >= 1 when in_epochs.
float LearningRate(const LrScheduleOptions& options, int64_t step, int64_t steps_per_epoch);

}  // namespace engine

#endif  // ENGINE_OPTIM_LR_SCHEDULE_H_
