// From a TrainConfig to a concrete sparsity plan: the model's layer table, the per-layer target sparsities from
// the chosen distribution (rigl/sparsity_distribution), how each weight is stored at the start of training, the
// Small-Dense width, and the theoretical training FLOPs per sample (models/flops, RIGL.md 4.3).
#ifndef RIGL_PLAN_H_
#define RIGL_PLAN_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "models/layer_spec.h"
#include "models/networks.h"
#include "rigl/config.h"
#include "rigl/sparsity_distribution.h"

namespace rigl {

struct SparsityPlan {
  models::NetworkOptions network;           // what BuildNetwork builds (storage plan included)
  std::vector<models::LayerSpec> layers;    // the full-width model's weight layers
  std::vector<double> sparsities;           // target sparsity per layer (0 for dense / unmasked)
  // Per sparse-stored weight: the stored positions to train at (or prune to): entries, or blocks under --block.
  std::map<std::string, int64_t> target_nnz;
  SparsityDistribution distribution;        // as computed (for telemetry)
  std::vector<models::LayerSpec> trained_layers;  // the layer table actually trained (Small-Dense: scaled)
};

// Under --block=RxC (R x C > 1) every sparse layer that Blockable() accepts is stored in R x C blocks (BSR) with
// MaskNnz(block grid cells, its sparsity) blocks, over [out, in] or [K, C*R*S]; the others stay CSR.
SparsityPlan MakeSparsityPlan(const TrainConfig& config);
// Whether --block applies to a layer: every linear layer (a shape that is not a multiple of the block pads its last
// block row / column), and a conv whose output channels are a multiple of R and C*R*S a multiple of C (no padding;
// otherwise the conv stays CSR). Depthwise convs never.
bool Blockable(const models::LayerSpec& layer, const BlockShape& block);
// Cells of a layer's block grid: ceil(out / R) * ceil(in / C), with in = C*R*S for a conv.
int64_t BlockGridCells(const models::LayerSpec& layer, const BlockShape& block);
// The same for another layer table of the model (a benchmark's variant at another input size): the distribution is
// computed over `layers`. Small-Dense needs the model's own table.
SparsityPlan MakeSparsityPlan(const TrainConfig& config, const std::vector<models::LayerSpec>& layers);

struct TrainFlops {
  double method = 0;  // theoretical training FLOPs of this iteration, per sample
  double dense = 0;   // the dense model's (3 f_D), per sample
  // The paper's 3x rule charges every layer an input (data) gradient, but the first layer's input is the data and
  // its gradient is never computed: this is that layer's forward cost, which the engine does not spend.
  double first_layer_data_grad = 0;
};
// current_sparsities: the layers' sparsities now (they change for gradual pruning); empty = the plan's targets.
// RigL is charged per iteration as RIGL.md 4.3 charges its two kinds of step: 2 f_S + f_D on an update iteration
// (forward, data gradient, dense weight gradient), 3 f_S otherwise; summed over a run this is the paper's amortised
// formula evaluated on the run's actual update schedule.
TrainFlops TrainingFlopsPerSample(const TrainConfig& config, const SparsityPlan& plan,
                                  const std::vector<double>& current_sparsities, bool update_iteration = false);

// An estimate of the memory a training run of config needs, from the plan alone (nothing is allocated): every
// stored weight with its gradient and optimizer slot (12 bytes per dense entry; 32 per sparse entry, counting the
// CSR and transposed indices), SNFS's dense EMA, and the activations of one batch with their gradients.
double EstimateTrainingBytes(const TrainConfig& config);
// Throws engine::Error naming the model and both sizes when EstimateTrainingBytes exceeds this machine's physical
// memory (so a typo such as --width=2000000000 is refused at once instead of swapping for minutes).
void CheckMemoryFits(const TrainConfig& config);

// The --flops_only table for config (model, sparsity, distribution, method).
std::string FlopsReport(const TrainConfig& config);

}  // namespace rigl

#endif  // RIGL_PLAN_H_
