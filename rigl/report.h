// What a training run prints and writes besides its checkpoint: the start banner (settings, machine, one line per
// layer), one console line and one metrics record per epoch (metrics.jsonl and metrics.csv, rewritten whole and
// atomically), the final lines and summary.json. Internal to //rigl:trainer_lib.
#ifndef RIGL_REPORT_H_
#define RIGL_REPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rigl/config.h"
#include "rigl/methods/training_method.h"
#include "rigl/plan.h"
#include "rigl/progress.h"
#include "rigl/trainer.h"

namespace rigl::internal {

// The run's counters (checkpointed with it).
struct RunTotals {
  int64_t iteration = 0;  // batches consumed
  int64_t epoch = 0, batch_index = 0;
  int64_t updates = 0;    // topology updates
  double counted_flops = 0, theoretical_flops = 0, dense_flops = 0;
  double theoretical_engine_flops = 0;  // theoretical minus the first layer's never-computed data gradient
  double train_seconds = 0, update_seconds = 0;
  double epoch_loss_sum = 0, epoch_correct = 0, epoch_samples = 0;
};

// The run's fixed dimensions.
struct RunShape {
  int64_t total_iterations = 0, batches_per_epoch = 0, total_epochs = 0;
};

// The sparse layer storing weight `name`, or null when that weight is stored densely.
const LayerState* FindLayer(const std::vector<LayerState>& layers, const std::string& name);
// Stored entries over all positions of the plan's weight layers (of the maskable ones only, if maskable_only).
double StoredDensity(const SparsityPlan& plan, const std::vector<LayerState>& layers, bool maskable_only);

class Reporter {
 public:
  Reporter(const TrainConfig& config, const RunShape& shape, Progress* progress)
      : c_(config), shape_(shape), progress_(progress) {}

  // The display lines go to (created once the resumed position is known).
  void SetProgress(Progress* progress) { progress_ = progress; }
  void Banner(const SparsityPlan& plan, const std::vector<LayerState>& layers, int64_t start_iteration, int ranks);
  // The end of an epoch (or of a partial one, when --time_budget stops the run): the console lines and the metrics
  // record. test_accuracy / test_loss are NaN when this epoch was not evaluated, valid_* also for every model but a
  // language model (which also gets bits per character: loss / ln 2). Returns the record.
  nlohmann::json Epoch(const RunTotals& totals, int64_t step, float lr, bool partial, double epoch_seconds,
                       double test_accuracy, double test_loss, double valid_accuracy, double valid_loss,
                       const SparsityPlan& plan,
                       const std::vector<LayerState>& layers);
  // The final lines and, with --out_dir, summary.json.
  void Final(const TrainSummary& summary, const RunTotals& totals);

  // Every epoch record so far (checkpointed, so a resumed run rewrites the same files).
  std::vector<nlohmann::json>& metrics() { return metrics_; }

 private:
  void WriteMetricsFiles() const;

  const TrainConfig& c_;
  RunShape shape_;
  Progress* progress_;
  std::vector<nlohmann::json> metrics_;
};

}  // namespace rigl::internal

#endif  // RIGL_REPORT_H_
