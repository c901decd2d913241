// Theoretical FLOPs and model size, exactly as the RigL paper (App. H) and its colabs count them (RIGL.md §4):
// multiply + add = 2 FLOPs; only conv / depthwise / dense layers count; every layer is counted with a bias add and a
// ReLU; 'same' padding is assumed. These are formulas on LayerSpec tables, not measurements (the measured count
// is engine::FlopCounter). Per-sample forward FLOPs are f_D (dense) and f_S (at the given sparsities).
#ifndef MODELS_FLOPS_H_
#define MODELS_FLOPS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "models/layer_spec.h"

namespace models {

// Per layer at sparsity s (a fraction, not rounded to the mask count):
//   conv:  out_h·out_w·cout·(2·kh·kw·cin·(1−s) + 1)   (depthwise: cout = 1, RIGL.md §4.1 quirk 2)
//   dense: cout·(2·cin·(1−s) + 1)
double LayerInferenceFlops(const LayerSpec& layer, double sparsity);
// Sum over layers; sparsities has one entry per layer (use 0 for non-maskable layers).
double InferenceFlops(const std::vector<LayerSpec>& layers, const std::vector<double>& sparsities);
double DenseInferenceFlops(const std::vector<LayerSpec>& layers);

// How a training method's step is charged (RIGL.md 4.3; backward = 2x forward). Rules, not method names: the
// methods themselves live in rigl/ (rigl/method.h maps each to its rule).
enum class CostRule {
  kDense,                // 3 f_D
  kSparse,               // 3 f_S (Static, SNIP: its one dense step is ignored; SET: random growth is ignored;
                         // Small-Dense: f_S is the width-scaled model's forward cost)
  kDenseWeightGradient,  // 2 f_S + f_D: the dense weight gradient every step (SNFS)
  kPeriodicDense,        // (3 f_S dT + 2 f_S + f_D) / (dT + 1): one dense-gradient update per dT steps (RigL)
  kTrajectory,           // 3 mean_t f_{S,t} over a sparsity trajectory (gradual pruning)
};
// "dense", "sparse", "dense_weight_gradient", "periodic_dense", "trajectory".
const char* CostRuleName(CostRule rule);

struct TrainCostOptions {
  CostRule rule = CostRule::kPeriodicDense;
  std::string label = "rigl";  // how FormatFlopsTable names the method
  int64_t delta_t = 100;       // kPeriodicDense: the update interval dT
  // kTrajectory only: the per-layer sparsities at each sampled step (e.g. t = 0, 1k, ..., 32k), one vector per step.
  std::vector<std::vector<double>> pruning_sparsities;
};

// Training FLOPs per step per sample from the forward costs (RIGL.md §4.3; backward = 2× forward):
// the CostRule comments give each formula. kTrajectory needs a trajectory: use TrainFlopsPerStep with
// options.pruning_sparsities.
double TrainFlopsPerStepFromForward(CostRule rule, double f_dense, double f_sparse, int64_t delta_t);

// Per layer (the formulas are linear, so the per-layer values sum to the total).
std::vector<double> LayerTrainFlopsPerStep(const std::vector<LayerSpec>& layers, const std::vector<double>& sparsities,
                                           const TrainCostOptions& options);
double TrainFlopsPerStep(const std::vector<LayerSpec>& layers, const std::vector<double>& sparsities,
                         const TrainCostOptions& options);

// Relative to the dense run of the SAME layer table at 1×: multiplier · TrainFlopsPerStep / (3·f_D). For Small-Dense
// divide by the full model's 3·f_D yourself (the scaled table is a different model).
double RelativeTrainFlops(const std::vector<LayerSpec>& layers, const std::vector<double>& sparsities,
                          const TrainCostOptions& options, double multiplier = 1.0);

// Model size (RIGL.md §4.1): per layer N·32·(1−s) + (s > 0 ? N mask bits : 0) + 32·cout bias bits (cout as counted,
// i.e. 1 for depthwise). Megabytes are bits / 8e6, as the README reports them.
double LayerSizeBits(const LayerSpec& layer, double sparsity);
double ModelSizeBits(const std::vector<LayerSpec>& layers, const std::vector<double>& sparsities);
double ModelSizeMegabytes(const std::vector<LayerSpec>& layers, const std::vector<double>& sparsities);

// A text table, one row per layer: name, shape, N, sparsity, nnz (MaskNnz), inference FLOPs and training FLOPs per
// step under options.rule; then totals and the ratios to dense. For the trainer's --flops_only.
std::string FormatFlopsTable(const std::vector<LayerSpec>& layers, const std::vector<double>& sparsities,
                             const TrainCostOptions& options);

}  // namespace models

#endif  // MODELS_FLOPS_H_
