// End-to-end training-step timing through the real model (models::BuildNetwork + autograd + engine::Sgd), the
// FLOPs the kernels count over those steps (engine::FlopCounter), memory computed from sizes, and the cost of one
// RigL (gradient grow) and SET (random grow) topology update through rigl::UpdateLayer with the real dense-gradient
// source the ops install. Inputs and labels are random (timing does not depend on the data). What this is not: a
// per-kernel split (layer_timing does that) or a training run (rigl/trainer does that).
#ifndef BENCH_FLOPS_STEP_TIMING_H_
#define BENCH_FLOPS_STEP_TIMING_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "engine/sparse/csr.h"
#include "models/networks.h"

namespace flopsbench {

struct StepOptions {
  int64_t batch = 128;
  int warmup = 1;          // untimed steps first
  int steps = 5;           // timed steps (medians reported)
  int update_repeats = 3;  // timed RigL and SET updates (medians reported); 0 = skip
  float drop_fraction = 0.3f;
  int64_t grow_tile_rows = 0;  // rigl::UpdateOptions::tile_rows (0 = automatic, about 4 Mi floats per tile)
  uint64_t seed = 0;
};

struct StepResult {
  // Medians over the timed steps, seconds: the whole step, and its parts as the trainer runs them.
  double step = 0, forward = 0, backward = 0, optimizer = 0;  // forward includes the loss; optimizer includes ZeroGrad
  double counted_flops = 0;  // engine::FlopCounter per step (median)
  // Memory, bytes. state: weights (CSR indices included) + gradients + momentum. activations: every non-leaf value
  // the autograd graph holds at the end of the forward (what backward needs). peak_rss_delta: VmHWM during this
  // configuration minus VmRSS before the model was built (after malloc_trim).
  int64_t state_bytes = 0, activation_bytes = 0, peak_rss_delta = 0;
  // Topology updates of all sparse layers together (0 when the model has none).
  double rigl_update = 0;       // UpdateLayer calls, gradient grow (dense-gradient tiles included), median
  double rigl_iteration = 0;    // a whole RigL update iteration: fwd + bwd with dense-gradient sources + updates
  double set_update = 0;        // UpdateLayer calls, random grow, median
  int64_t rigl_update_peak_extra = 0;  // VmHWM during the RigL update calls minus VmRSS before them
  int64_t largest_tile_bytes = 0;      // the largest dense-gradient tile the update scans (rows x cols floats)
  int64_t largest_dense_grad_bytes = 0;  // the dense gradient of the largest sparse layer, were it materialised
  // The sparse weights after the timed steps (name -> copy), so the layer-level timing uses the same patterns.
  std::map<std::string, engine::CsrMatrix> patterns;
};

// Builds the model with `build` (e.g. models::BuildNetwork; network gives the input shape and class count) and
// times it.
StepResult TimeTrainingStep(const models::NetworkOptions& network,
                            const std::function<models::Network(const models::NetworkOptions&)>& build,
                            const StepOptions& options);

}  // namespace flopsbench

#endif  // BENCH_FLOPS_STEP_TIMING_H_
