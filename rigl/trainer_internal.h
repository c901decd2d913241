// The Trainer class behind rigl::Train (trainer.h), shared by trainer.cc (the loop, the methods, evaluation) and
// trainer_io.cc (checkpoints and metrics files). Internal to //rigl:trainer_lib; not an API.
#ifndef RIGL_TRAINER_INTERNAL_H_
#define RIGL_TRAINER_INTERNAL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/data/batcher.h"
#include "engine/data/dataset.h"
#include "engine/optim/sgd.h"
#include "models/networks.h"
#include "rigl/config.h"
#include "rigl/drop_schedule.h"
#include "rigl/plan.h"
#include "rigl/progress.h"
#include "rigl/trainer.h"
#include "rigl/updater.h"

namespace rigl::internal {

using engine::data::Batch;
using engine::data::Batcher;

// Largest dense-gradient EMA (all of SNFS's per-layer rows x cols floats) the trainer agrees to allocate per layer.
inline constexpr double kSnfsEmaBudgetBytes = 4.0 * (1 << 30);
// Evaluation batches hold every activation of a forward pass: cap batch x widest layer at this many floats.
inline constexpr int64_t kEvalActivationFloats = int64_t{1} << 24;

// Per sparse layer state beyond the parameter itself.
struct LayerState {
  engine::SparseParameter* param = nullptr;
  int64_t target_nnz = 0;   // the distribution's nnz (final nnz for SNIP/pruning)
  double target_sparsity = 0;
  LayerHistory history;
  std::vector<float> ema;   // SNFS: dense-gradient EMA (rows x cols), the method's inherent dense cost
  LayerUpdateStats last;
};

inline uint64_t Fnv1a(uint64_t h, const void* data, size_t bytes) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < bytes; ++i) {
    h ^= p[i];
    h *= 0x100000001B3ull;
  }
  return h;
}

class Trainer {
 public:
  explicit Trainer(const TrainConfig& config) : c_(config) {}
  TrainSummary Run();

 private:
  void LoadData();
  void BuildModel();
  // Restores every piece of state from a checkpoint, validating each before use; RestoreFrom does the work and
  // ResumeFrom adds the messages for a missing or malformed file.
  void ResumeFrom(const std::string& path);
  void RestoreFrom(const std::string& path);
  void SaveCheckpoint(const std::string& path);
  float RunIteration(const Batch& batch, int* correct);
  void TopologyUpdate(GrowMode mode, int64_t t_eval);
  void SnipPrune();
  void GradualPrune(int64_t t);
  // Shrinks layers (SNIP, pruning): drops[l] are positions of layers_[l]; momentum is carried across by
  // rebuilding the optimizer with compacted slots.
  void ApplyPrunes(const std::vector<std::vector<int64_t>>& drops);
  void MakeOptimizer();
  std::vector<double> CurrentSparsities() const;
  // The sparse layer storing weight `name`, or null when that weight is stored densely.
  const LayerState* FindLayer(const std::string& name) const;
  // Stored entries over all positions of the weight layers (of the maskable ones only, if maskable_only).
  double StoredDensity(bool maskable_only) const;
  void UpdateSnfsEma();
  void Evaluate(double* accuracy, double* loss);
  void CheckFinite(float loss);
  void WriteEpochMetrics(const nlohmann::json& line);
  nlohmann::json DensityJson() const;
  uint64_t Fingerprint() const;
  float LearningRate() const;

  TrainConfig c_;
  engine::data::TrainTestSplit data_;
  std::unique_ptr<Batcher> batcher_;
  models::Network net_;
  std::unique_ptr<engine::Sgd> opt_;
  std::vector<LayerState> layers_;
  SparsityPlan plan_;
  std::unique_ptr<DropSchedule> drop_schedule_;
  PruningScheduleConfig pruning_;
  std::unique_ptr<Progress> progress_;

  // Counters (checkpointed).
  int64_t t_ = 0;             // optimizer steps taken
  int64_t last_update_ = 0;   // step of the last topology update
  int64_t iteration_ = 0;     // batches consumed
  int64_t epoch_ = 0, batch_index_ = 0;
  int64_t updates_ = 0;
  bool snip_done_ = false;
  double counted_flops_ = 0, theoretical_flops_ = 0, dense_flops_ = 0, train_seconds_ = 0, update_seconds_ = 0;
  double theoretical_engine_flops_ = 0;  // theoretical minus the first layer's never-computed data gradient
  double epoch_loss_sum_ = 0, epoch_correct_ = 0, epoch_samples_ = 0;
  std::vector<nlohmann::json> metrics_;  // every epoch line so far (rewritten atomically each epoch)

  int64_t total_iterations_ = 0, batches_per_epoch_ = 0, total_epochs_ = 0;
};

}  // namespace rigl::internal

#endif  // RIGL_TRAINER_INTERNAL_H_
