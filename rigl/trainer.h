// The training loop behind `bazel run //:trainer`: builds the model and its sparsity plan from a TrainConfig,
// trains on Fashion-MNIST (or any MNIST-format data) with the chosen method (dense, static, SET, SNFS, SNIP, gradual
// pruning, Small-Dense, RigL), evaluates, logs metrics, checkpoints and resumes bit-exactly.
#ifndef RIGL_TRAINER_H_
#define RIGL_TRAINER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "engine/dist/communicator.h"
#include "rigl/config.h"

namespace rigl {

struct TrainSummary {
  double test_accuracy = 0;
  double test_loss = 0;
  // A language model (gru_lm): accuracy and loss are per predicted byte (loss in nats; bits per character = loss /
  // ln 2), and the validation split is evaluated too.
  bool language_model = false;
  double valid_accuracy = 0;
  double valid_loss = 0;
  int64_t clipped_steps = 0;    // --clip_grad_norm: steps of this process whose gradients were scaled down
  double final_train_loss = 0;  // mean loss over the last epoch
  double train_accuracy = 0;    // over the last epoch's batches
  int64_t steps = 0;            // optimizer steps
  int64_t updates = 0;          // topology updates
  double seconds = 0;           // training wall time (excluding evaluation)
  double update_seconds = 0;    // of which in topology updates (RigL/SET/SNFS/pruning/SNIP)
  double counted_train_flops = 0;      // FLOPs the kernels performed during training steps
  double theoretical_train_flops = 0;  // RIGL.md 4.3 per-sample training FLOPs x samples processed
  double dense_train_flops = 0;        // the same for the dense model (3 f_D per sample)
  double theoretical_train_flops_engine = 0;  // theoretical minus the first layer's never-computed data gradient
  double realised_sparsity = 0;        // over the masked layers
  int64_t blocked_layers = 0;          // sparse layers stored in blocks (BSR, --block)
  std::vector<std::string> dense_kernel_layers;  // sparse layers whose last forward ran the dense kernels
  int64_t peak_rss_bytes = 0;
  uint64_t weights_fingerprint = 0;           // FNV-1a over every parameter's bytes, for bit-exact comparisons
  bool stopped_by_time_budget = false;  // --time_budget ended the run before its last iteration
  int64_t iterations = 0;               // iterations done (steps + RigL/SNFS update iterations)
  int64_t start_iteration = 0;          // where this run began: 0, or the resumed checkpoint's iteration
  std::string openblas_core;            // the OpenBLAS kernels dense layers ran on (blas_core.h)
  bool openblas_below_best = false;     // below this CPU's best family (only when ENGINE_OPENBLAS_CORE forces it)
  // Data-parallel runs (Train with a communicator of several ranks; rigl/data_parallel.h).
  int ranks = 1;
  int64_t exchange_floats_per_step = 0;  // floats in the last optimizer step's gradient exchange (its payload)
  int64_t bytes_sent = 0;                // by this rank, over every collective of the run
  int64_t tile_bytes_sent = 0;           // of which dense-gradient tiles at topology updates
  double exchange_seconds = 0;           // this rank's time in the per-step exchanges and the replica checks
  double tile_exchange_seconds = 0;      // ... and in the dense-gradient tiles' exchanges (inside update_seconds)
  int64_t replica_checks = 0;            // checks that every rank holds the same model (start, every update)
};

// Runs the whole training described by config. Progress goes to stderr; the summary lines to stdout.
TrainSummary Train(const TrainConfig& config);
// The same, data-parallel over the ranks of `comm` (every rank calls it with the same config): each global batch of
// --batch_size is split across the ranks, gradients are summed every step, only rank 0 writes files.
TrainSummary Train(const TrainConfig& config, engine::dist::Communicator& comm);

// --flops_only: prints the per-layer theoretical FLOPs table and returns.
void PrintFlopsTable(const TrainConfig& config);


}  // namespace rigl

#endif  // RIGL_TRAINER_H_
