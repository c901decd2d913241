// The Trainer class behind rigl::Train (trainer.h), shared by trainer.cc (the loop and evaluation) and trainer_io.cc
// (checkpoints). What each method does lives in rigl/methods/, what the run prints and writes in rigl/report.
// Internal to //rigl:trainer_lib; not an API.
#ifndef RIGL_TRAINER_INTERNAL_H_
#define RIGL_TRAINER_INTERNAL_H_

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/timer.h"
#include "engine/data/batcher.h"
#include "engine/data/dataset.h"
#include "engine/optim/sgd.h"
#include "models/networks.h"
#include "engine/dist/communicator.h"
#include "rigl/config.h"
#include "rigl/data_parallel.h"
#include "rigl/methods/training_method.h"
#include "rigl/plan.h"
#include "rigl/progress.h"
#include "rigl/report.h"
#include "rigl/trainer.h"

namespace rigl::internal {

using engine::data::Batch;
using engine::data::Batcher;

// Evaluation batches hold every activation of a forward pass: cap batch x widest layer at this many floats.
inline constexpr int64_t kEvalActivationFloats = int64_t{1} << 24;

class Trainer {
 public:
  Trainer(const TrainConfig& config, engine::dist::Communicator* comm);
  TrainSummary Run();

 private:
  void BuildModel();
  void LoadData();
  void MakeOptimizer();
  // Restores every piece of state from a checkpoint, validating each before use; RestoreFrom does the work and
  // ResumeFrom adds the messages for a missing or malformed file.
  void ResumeFrom(const std::string& path);
  void RestoreFrom(const std::string& path);
  void SaveCheckpoint(const std::string& path);
  // --init_from and --export (trainer_export.cc, on rigl/export): the weights of a safetensors file, and the model
  // written as one.
  void InitFrom(const std::string& path);
  void Export();
  // One mini-batch: forward, backward, then the optimizer step and/or the method's topology update.
  // Returns this rank's mean loss over its shard; *correct counts its shard's correct predictions.
  float RunIteration(const Batch& batch, int* correct);
  // Data-parallel: every rank's loss and correct count of this iteration, combined in rank order (the same on every
  // rank), and rank 0's training clock (so --time_budget stops every rank at the same iteration).
  void CombineIteration(const Batch& batch, float* loss, int* correct);
  // At optimizer step `step` (or at the current batch, with --lr_clock=batch).
  float LearningRate(int64_t step) const;
  // Ends an epoch (partial: --time_budget stopped it early): evaluates when due, reports, checkpoints.
  void CloseEpoch(bool partial, float lr);
  void ReportLayerKernels();  // prints which sparse layers ran the dense kernels, when that changes
  // Accuracy and mean loss per prediction (per byte for a language model) over `data`.
  void Evaluate(const engine::data::Dataset& data, double* accuracy, double* loss);
  // The test split, and a language model's validation split, into test_* and valid_*.
  void EvaluateHeldOut();
  // The labels of a batch: its own, or a language model's next bytes (engine/data/text.h).
  std::vector<int32_t> Labels(const Batch& batch) const;
  // --clip_grad_norm: scales every gradient of this step by min(1, clip / global L2 norm).
  void ClipGradients();
  void CheckFinite(float loss);
  std::vector<double> CurrentSparsities() const;
  uint64_t Fingerprint() const;
  TrainSummary Summarise(bool stopped_by_time_budget) const;

  TrainConfig c_;
  engine::dist::Communicator* comm_;
  std::unique_ptr<DataParallel> dp_;  // with several ranks
  int64_t exchange_floats_per_step_ = 0;  // of the last optimizer step
  std::vector<bool> last_dense_kernels_;  // per layer, as ReportLayerKernels last printed it
  double last_counted_flops_ = 0;         // this rank's kernels, last iteration
  engine::data::TrainTestSplit data_;
  engine::data::Dataset validation_;  // a language model's validation split (empty otherwise)
  int64_t positions_per_sample_ = 1;
  std::string data_line_;  // a language model's data, for the start-up lines  // predictions per sample: seq_len for a language model
  std::unique_ptr<Batcher> batcher_;
  models::Network net_;
  std::unique_ptr<engine::Optimizer> opt_;
  std::vector<LayerState> layers_;
  SparsityPlan plan_;
  std::unique_ptr<TrainingMethod> method_;
  std::unique_ptr<Progress> progress_;
  std::unique_ptr<Reporter> report_;
  RunShape shape_;
  RunTotals totals_;  // checkpointed, with the method's step counters
  int64_t imported_steps_ = 0;  // optimizer steps the --init_from file's weights had (checkpointed)
  double final_train_loss_ = 0, final_train_accuracy_ = 0;
  int64_t clipped_steps_ = 0;   // steps whose gradients were scaled down (this process's run, not checkpointed)
  double test_accuracy_ = std::nan(""), test_loss_ = std::nan("");  // of the last evaluation
  double valid_accuracy_ = std::nan(""), valid_loss_ = std::nan("");  // language models: the validation split's
  engine::Timer epoch_timer_;
};

}  // namespace rigl::internal

#endif  // RIGL_TRAINER_INTERNAL_H_
