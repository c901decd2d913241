// When connectivity updates happen and what fraction they drop (RIGL.md §3.1-3.3), plus the Zhu-Gupta gradual
// pruning schedule (§3.7). Pure step arithmetic: no masks, no tensors. The StepDriver reproduces the reference's
// global-step bookkeeping: RigL's update replaces the optimizer step and freezes t; SET/SNFS update after the step.
#ifndef RIGL_DROP_SCHEDULE_H_
#define RIGL_DROP_SCHEDULE_H_

#include <cstdint>
#include <string>

namespace rigl {

enum class DropDecay {
  kCosine,        // f(t) = α·½(1 + cos(π·min(t, end−begin)/(end−begin))), raw t as in TF cosine_decay
  kConstant,      // f(t) = α
  kExponentialK,  // f(t) = α·(1 − (t−begin)/(end−begin))^k, "inverse power" (k=1 linear, k=3 Zhu-Gupta style)
};

struct DropScheduleConfig {
  int64_t update_interval = 100;       // ΔT >= 1
  double initial_drop_fraction = 0.3;  // α in [0, 1]
  int64_t begin_step = 0;              // first step that may update
  int64_t end_step = 75000;            // T_end, last step that may update (inclusive); f(T_end) = 0 for cosine
  DropDecay decay = DropDecay::kCosine;
  double exponent_k = 3.0;             // kExponentialK only
};

// Throws engine::Error naming the field if the config is invalid.
void ValidateDropSchedule(const DropScheduleConfig& config);

// Parses "cosine", "constant", "exponential_<k>" (e.g. "exponential_3") into decay (and exponent_k).
void ParseDropDecay(const std::string& name, DropScheduleConfig* config);

// k = int(n_active · fraction) with the product in float32 (RIGL.md §3.3): the one rule for how many weights an update
// drops (and regrows). Throws unless n_active >= 0 and 0 <= fraction <= 1.
int64_t DropCount(int64_t n_active, float fraction);

class DropSchedule {
 public:
  explicit DropSchedule(const DropScheduleConfig& config);  // validates

  // begin <= t <= end (inclusive) and last_update + ΔT <= t. Before the first update last_update = InitialLastUpdate().
  bool IsUpdateStep(int64_t t, int64_t last_update) const;
  int64_t InitialLastUpdate() const { return -config_.update_interval; }

  // f(t) in float32, as the reference's TF graph evaluates it (computed in double, rounded once to float).
  float DropFraction(int64_t t) const;

  // DropCount(n_active, DropFraction(t)): the number dropped and regrown at step t.
  int64_t DropCount(int64_t n_active, int64_t t) const;

  const DropScheduleConfig& config() const { return config_; }

 private:
  DropScheduleConfig config_;
};

// Where the mask update sits relative to the optimizer step (RIGL.md §3.2, §7.1).
enum class UpdatePlacement {
  kReplacesOptimizerStep,  // TF1 RigL: the update uses the batch instead of an SGD step; t is not incremented
  kAfterOptimizerStep,     // TF1 SET/SNFS: SGD step, t += 1, then the update check on the post-increment t
  kNoUpdates,              // methods without drop-and-grow: every iteration is an optimizer step
};

// What one training iteration (one mini-batch) does.
struct IterationPlan {
  int64_t step_before = 0;      // global step t when the iteration starts
  bool optimizer_step = false;  // apply the optimizer (and increment t)
  bool mask_update = false;     // run a connectivity update
  int64_t update_step = -1;     // t at which the update is evaluated (drop fraction f(update_step)); -1 if none
};

// Replays the reference's global-step pattern; the trainer's one source of t. E.g. RigL (begin, end, ΔT) = (3, 7, 2) increments t on iterations
// 1,1,1,0,1,1,0,1,1,0,1 (0 = mask update, no optimizer step).
class StepDriver {
 public:
  StepDriver(const DropScheduleConfig& config, UpdatePlacement placement);

  // Plans the next iteration and advances the internal global step and last-update step.
  IterationPlan Next();

  // Puts the driver where a checkpoint left it (global step t and the step of the last update).
  void Restore(int64_t global_step, int64_t last_update);

  int64_t global_step() const { return global_step_; }
  int64_t last_update_step() const { return last_update_; }
  const DropSchedule& schedule() const { return schedule_; }

 private:
  DropSchedule schedule_;
  UpdatePlacement placement_;
  int64_t global_step_ = 0;
  int64_t last_update_;
};

// Zhu & Gupta gradual magnitude pruning (RIGL.md §3.7):
// s_t = s_f + (s_i − s_f)·(1 − p)^3, p = clip((t − begin)/(end − begin), 0, 1); masks recomputed every `frequency`
// steps for begin <= t <= end.
struct PruningScheduleConfig {
  double initial_sparsity = 0.0;  // s_i
  double final_sparsity = 0.9;    // s_f
  int64_t begin_step = 0;
  int64_t end_step = 0;           // > begin_step
  int64_t frequency = 1;          // >= 1
};

void ValidatePruningSchedule(const PruningScheduleConfig& config);
double PruningSparsity(const PruningScheduleConfig& config, int64_t t);
// begin <= t <= end and (t − begin) is a multiple of frequency.
bool IsPruningStep(const PruningScheduleConfig& config, int64_t t);

}  // namespace rigl

#endif  // RIGL_DROP_SCHEDULE_H_
