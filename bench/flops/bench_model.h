// What //bench:flops measures for a --model, and the sparsity plan of each measured density. The model comes from
// the registry (models::AllModels); where the bench measures another variant than the trainer trains (WRN-22-2 at
// CIFAR-10's 32x32x3, the ImageNet models at 3x224x224) that is stated once, in bench_model.cc. The plan is built
// from the table measured, so its storage, its FLOPs and the network built all describe the same layers.
#ifndef BENCH_FLOPS_BENCH_MODEL_H_
#define BENCH_FLOPS_BENCH_MODEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "models/layer_spec.h"
#include "models/networks.h"
#include "rigl/config.h"
#include "rigl/plan.h"

namespace flopsbench {

struct BenchModel {
  std::string name;                        // the --model value
  std::vector<models::LayerSpec> layers;   // the weight layers measured (FLOPs counted, kernels timed)
  models::NetworkOptions network;          // model, hidden widths, input channels and side, classes; no storage
  models::Network (*build)(const models::NetworkOptions&) = nullptr;  // null: timed at kernel level only
  int64_t smoke_batch = 16;                // the batch of a --smoke run

  bool buildable() const { return build != nullptr; }
};

// The registry's sequence models (gru_lm), which this bench does not measure: DescribeBenchModel refuses them.
bool IsSequenceModel(const std::string& name);

// The model named `name` (a models::AllModels() entry; throws engine::Error naming --model and the list otherwise)
// with these MLP hidden widths (used by mlp only).
BenchModel DescribeBenchModel(const std::string& name, const std::vector<int64_t>& hidden);

// The plan of one measured configuration: at density 1 every layer dense; below, the per-layer sparsities of
// trainer.distribution (uniform | er | erk | mnist, with trainer.first_layer_dense) at overall sparsity 1 - density
// over model.layers, and each masked weight stored as CSR at exactly its target nnz (a static random mask, which
// SET and RigL also start from). network carries the storage and trainer.seed.
rigl::SparsityPlan MakeBenchPlan(const BenchModel& model, double density, const rigl::TrainConfig& trainer);

}  // namespace flopsbench

#endif  // BENCH_FLOPS_BENCH_MODEL_H_
