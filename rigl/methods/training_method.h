// A sparse-training method as the trainer loop sees it. Each iteration (one mini-batch) the loop asks the method to
// Plan it (optimizer step or not, topology update or not; the method's StepDriver is the one source of the global
// step t), to say what the backward must produce (BeforeForward), to look at the gradients (AfterBackward), and, on
// an update iteration, to change the topology (UpdateTopology) after the optimizer step if there is one.
//
// Where a new method goes: a file in rigl/methods/ defining a TrainingMethod subclass and its factory (declared in
// registry.h), one line in the registry (registry.cc), one row in rigl/method.h's table (its name, storage, update
// placement, FLOPs rule). The tested helpers do the work: StepDriver and DropSchedule (rigl/drop_schedule) for when
// and how much, UpdateLayer (rigl/updater) for drop-and-grow, SnipDrops / LowestMagnitude for pruning.
#ifndef RIGL_METHODS_TRAINING_METHOD_H_
#define RIGL_METHODS_TRAINING_METHOD_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/autograd/parameter.h"
#include "engine/optim/optimizer.h"
#include "rigl/checkpoint.h"
#include "rigl/config.h"
#include "rigl/drop_schedule.h"
#include "rigl/method.h"
#include "rigl/updater.h"

namespace rigl {

// Per sparse layer state beyond the parameter itself.
struct LayerState {
  engine::SparseParameter* param = nullptr;
  int64_t target_nnz = 0;  // the distribution's nnz (final nnz for SNIP/pruning)
  double target_sparsity = 0;
  LayerHistory history;
  LayerUpdateStats last;
};

// What a method may use and change: the run's settings, the sparse layers, and the optimizer (which pruning
// rebuilds when storage shrinks).
struct MethodContext {
  const TrainConfig* config = nullptr;
  std::vector<LayerState>* layers = nullptr;
  std::unique_ptr<engine::Optimizer>* optimizer = nullptr;
  std::function<void()> make_optimizer;  // replaces *optimizer with a fresh one sized to the current nnz
};

// What an update did, for the trainer's counters and progress display.
struct TopologyChange {
  bool changed = false;       // counts as a topology update
  float drop_fraction = 0;    // drop-and-grow methods: f(t) of this update
};

// Made with the model, before any data is read (so a method can refuse a model at once); Start() follows once the
// run's length is known.
class TrainingMethod {
 public:
  explicit TrainingMethod(const MethodContext& context) : context_(context) {}
  virtual ~TrainingMethod() = default;

  // Sets the schedules for a run of total_iterations batches. Call once, before Plan.
  virtual void Start(int64_t total_iterations);

  const MethodInfo& info() const { return Info(context_.config->method); }
  // t: optimizer steps taken so far, and the step of the last drop-and-grow update.
  int64_t step() const { return driver_->global_step(); }
  int64_t last_update() const { return driver_->last_update_step(); }
  const DropSchedule& drop_schedule() const { return driver_->schedule(); }

  // The coming iteration; advances t when it takes an optimizer step. Default: the StepDriver with the method's
  // update placement (rigl/method.h).
  virtual IterationPlan Plan() { return driver_->Next(); }
  // Sets what each layer's backward produces: default the pattern gradient only.
  virtual void BeforeForward(const IterationPlan& it);
  // After the backward, before the optimizer step.
  virtual void AfterBackward(const IterationPlan& it) { (void)it; }
  // Called on iterations with it.mask_update, after the optimizer step if the iteration has one.
  virtual TopologyChange UpdateTopology(const IterationPlan& it) {
    (void)it;
    return {};
  }
  // State beyond the counters and layers, for checkpoints (validated on restore; `path` names the file in errors).
  virtual void Save(CheckpointWriter* writer) const { (void)writer; }
  virtual void Restore(const CheckpointReader& reader, const std::string& path) {
    (void)reader;
    (void)path;
  }
  // Puts t and the last-update step where a checkpoint left them.
  void RestoreSteps(int64_t step, int64_t last_update) { driver_->Restore(step, last_update); }

 protected:
  const TrainConfig& config() const { return *context_.config; }
  std::vector<LayerState>& layers() { return *context_.layers; }
  // One drop-and-grow update of every layer at step t (RigL, SET, SNFS); scores(l) supplies layer l's grow scores
  // for GrowMode::kScores.
  TopologyChange DropAndGrow(GrowMode mode, int64_t t, const std::function<RowTileFn(size_t)>& scores = nullptr);
  // Removes drops[l] (storage positions, ascending) from layer l and carries every optimizer slot across (SNIP,
  // pruning).
  TopologyChange Prune(const std::vector<std::vector<int64_t>>& drops) { return Resize(drops, {}); }
  // Removes drops[l] from layer l, then grows grows[l] (cells not stored after the drop; empty or absent: none), so
  // a layer's nnz may move either way. Every optimizer slot and the gradient are carried across (kept entries bit
  // for bit, grown ones zero) and the optimizer is rebuilt at the new sizes.
  TopologyChange Resize(const std::vector<std::vector<int64_t>>& drops,
                        const std::vector<std::vector<engine::GrowCoord>>& grows);
  // Applies each layer's resolved edit through Resize (its nnz may move), records the growth in its history and
  // puts its telemetry in LayerState::last: stats[l] comes from BeginLayerUpdate, with `requested` set; the counts,
  // the mean dropped magnitude, the ever-active share and the new nnz are filled here. The layers' dense-gradient
  // sources are cleared (their saved activations belong to the old topology).
  TopologyChange ApplyLayerEdits(std::vector<LayerEdit> edits, std::vector<LayerUpdateStats> stats,
                                 float drop_fraction);
  // RigL's update iterations: the backward produces the dense gradient (tile by tile through dense_grad_rows) and
  // skips the pattern gradient, for which a batch that replaces the optimizer step has no use.
  void RequestDenseGradientOnUpdates(const IterationPlan& it) {
    for (LayerState& s : layers()) {
      s.param->want_dense_grad = it.mask_update;
      s.param->skip_pattern_grad = it.mask_update;
    }
  }

  MethodContext context_;
  std::optional<StepDriver> driver_;  // from Start()
};

// The drop schedule of a run of `total_iterations` batches (RIGL.md 3.1: updates every delta_t steps until
// t_end x the run, drop fraction decaying from drop_fraction).
DropScheduleConfig DropScheduleFor(const TrainConfig& config, int64_t total_iterations);

}  // namespace rigl

#endif  // RIGL_METHODS_TRAINING_METHOD_H_
