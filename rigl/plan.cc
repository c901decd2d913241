// Sparsity plans and theoretical FLOPs for the trainer (see plan.h).
#include "rigl/plan.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

#include "engine/base/check.h"
#include "models/architectures.h"
#include "models/flops.h"

namespace rigl {
namespace {

// The input the plan describes: the trained one, or ImageNet's for --flops_shape=imagenet (--flops_only tables).
void SetInput(const TrainConfig& c, models::NetworkOptions* o) {
  if (c.flops_shape != "imagenet") return;
  o->in_channels = 3, o->input_hw = 224, o->num_classes = 1000;
}

// The model and its widths, as the flags give them.
void SetModel(const TrainConfig& c, models::NetworkOptions* o) {
  SetInput(c, o);
  o->model = c.model;
  o->hidden = c.width;
  o->mobilenet_width = c.mobilenet_width;
  o->gru.embedding = c.embedding_dim;
  o->gru.hidden = c.gru_hidden;
  o->gru.readout = c.readout;
  o->gru.seq_len = c.seq_len;
}

std::vector<models::LayerSpec> LayersFor(const TrainConfig& c, double width_multiplier) {
  models::NetworkOptions o;
  SetModel(c, &o);
  o.width_multiplier = width_multiplier;
  return models::NetworkLayers(o);
}

SparsityDistribution Distribute(const TrainConfig& c, const std::vector<models::LayerSpec>& layers) {
  DistributionOptions o;
  o.sparsity = c.sparsity;
  o.erk_power_scale = c.erk_power_scale;
  o.first_layer_dense = c.first_layer_dense;
  if (c.distribution == "mnist") {
    o.kind = DistributionKind::kUniform;
    o.custom = MnistMlpCustomMap(layers, c.sparsity);
  } else {
    o.kind = ParseDistributionKind(c.distribution);
  }
  return ComputeSparsities(layers, o);
}

// Small-Dense: the width multiplier whose dense model has the bit size (masks included) of the sparse model.
double SmallDenseWidth(const TrainConfig& c, const std::vector<models::LayerSpec>& layers,
                       const std::vector<double>& sparsities) {
  const double target = models::ModelSizeBits(layers, sparsities);
  double lo = 1e-3, hi = 1.0;
  for (int it = 0; it < 60; ++it) {
    const double mid = 0.5 * (lo + hi);
    const auto scaled = LayersFor(c, mid);
    const double bits = models::ModelSizeBits(scaled, std::vector<double>(scaled.size(), 0.0));
    (bits > target ? hi : lo) = mid;
  }
  return lo;
}

}  // namespace

SparsityPlan MakeSparsityPlan(const TrainConfig& c) { return MakeSparsityPlan(c, LayersFor(c, 1.0)); }

SparsityPlan MakeSparsityPlan(const TrainConfig& c, const std::vector<models::LayerSpec>& layers) {
  SparsityPlan plan;
  plan.layers = layers;
  SetModel(c, &plan.network);
  plan.network.seed = c.seed;
  plan.network.fan = c.init_fan == "stored" ? engine::nn::FanMode::kStored : engine::nn::FanMode::kDense;
  plan.sparsities.assign(plan.layers.size(), 0.0);
  plan.trained_layers = plan.layers;
  if (c.method == Method::kDense) return plan;

  plan.distribution = Distribute(c, plan.layers);
  plan.sparsities = plan.distribution.Sparsities();
  if (c.method == Method::kSmallDense) {
    ENGINE_CHECK(layers.size() == LayersFor(c, 1.0).size(), "--method=small_dense: the plan's layer table is not "
                 "model ", c.model, "'s own; expected the model's table (Small-Dense rescales it)");
    plan.network.width_multiplier = SmallDenseWidth(c, plan.layers, plan.sparsities);
    plan.trained_layers = LayersFor(c, plan.network.width_multiplier);
    return plan;
  }
  const bool starts_full = Info(c.method).starts_full;
  const BlockShape block = ParseBlock(c.block);
  for (size_t l = 0; l < plan.layers.size(); ++l) {
    const LayerSparsity& ls = plan.distribution.layers[l];
    const models::LayerSpec& spec = plan.layers[l];
    if (ls.sparsity <= 0.0) continue;  // dense layers stay dense (and are never updated)
    if (!Blockable(spec, block)) {
      plan.network.plan[spec.name] = engine::nn::WeightStorage::Sparse(starts_full ? ls.n : ls.nnz);
      plan.target_nnz[spec.name] = ls.nnz;
      continue;
    }
    // Blocks over the weight [out, in] (a conv's [K, C*R*S]: output channels x filter taps): the exact-count rule
    // on the block grid (the last block row / column is padded when the shape is not a multiple of the block; its
    // padding is neither a weight nor computed).
    const int64_t grid = BlockGridCells(spec, block);
    const int64_t blocks = models::MaskNnz(grid, ls.sparsity);
    plan.network.plan[spec.name] =
        engine::nn::WeightStorage::Blocked(starts_full ? grid : blocks, block.rows, block.cols);
    plan.target_nnz[spec.name] = blocks;
  }
  return plan;
}

bool Blockable(const models::LayerSpec& layer, const BlockShape& block) {
  if (block.unstructured() || layer.kind == models::LayerSpec::kDepthwiseConv) return false;
  if (layer.kind == models::LayerSpec::kDense) return true;
  // A conv only where the block maps onto whole output channels and filter taps: a padded block row over LeNet-5's
  // 6-channel conv1 would hold 2 of 8 rows of padding and run on the clipped (portable) kernel path.
  return layer.out_channels % block.rows == 0 && (layer.N() / layer.out_channels) % block.cols == 0;
}

int64_t BlockGridCells(const models::LayerSpec& layer, const BlockShape& block) {
  const int64_t cols = layer.N() / layer.out_channels;  // in (linear) or C*R*S (conv)
  return ((layer.out_channels + block.rows - 1) / block.rows) * ((cols + block.cols - 1) / block.cols);
}

double EstimateTrainingBytes(const TrainConfig& c) {
  const SparsityPlan plan = MakeSparsityPlan(c);
  double bytes = 0;
  for (const models::LayerSpec& l : plan.trained_layers) {
    const double n = static_cast<double>(l.N());
    const auto it = plan.network.plan.find(l.name);
    const bool sparse = it != plan.network.plan.end() && it->second.sparse;
    const double stored = sparse ? static_cast<double>(it->second.nnz * it->second.block_rows * it->second.block_cols)
                                 : 0.0;
    bytes += sparse ? 32.0 * stored + 8.0 * static_cast<double>(l.out_channels) : 12 * n;
    if (c.method == Method::kSnfs && sparse) bytes += 4 * n;
    // Output activations, their gradient and one saved copy (ReLU mask or pre-activation).
    bytes += 3.0 * 4.0 * static_cast<double>(c.batch_size) * static_cast<double>(l.out_channels) *
             static_cast<double>(l.OutputH()) * static_cast<double>(l.OutputW()) * static_cast<double>(l.time_steps);
  }
  return bytes;
}

void CheckMemoryFits(const TrainConfig& c) {
  const double need = EstimateTrainingBytes(c);
  const double have = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGESIZE));
  constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
  std::string widths;
  for (int64_t w : c.width) widths += (widths.empty() ? "" : ",") + std::to_string(w);
  ENGINE_CHECK(have <= 0 || need <= have, "--model=", c.model, c.model == "mlp" ? " --width=" + widths : "",
               " --method=", MethodName(c.method), " --sparsity=", c.sparsity, " --batch_size=", c.batch_size, ": training needs about ",
               need / kGiB, " GiB (weights, gradients, optimizer state, one batch of activations); this machine has ",
               have / kGiB, " GiB; expected a model that fits (raise --sparsity, narrow --width or lower --batch_size)");
}

TrainFlops TrainingFlopsPerSample(const TrainConfig& c, const SparsityPlan& plan,
                                  const std::vector<double>& current, bool update_iteration) {
  TrainFlops f;
  const double f_dense = models::DenseInferenceFlops(plan.layers);
  f.dense = 3.0 * f_dense;
  const std::vector<double>& s = current.empty() ? plan.sparsities : current;
  const std::vector<models::LayerSpec>& trained = plan.trained_layers;
  // A language model's first layer (the GRU's input projection) does propagate its data gradient, to the embedding.
  f.first_layer_data_grad =
      trained.empty() || c.IsLanguageModel() ? 0.0
                      : models::LayerInferenceFlops(trained[0], c.method == Method::kSmallDense ? 0.0 : s[0]);
  const models::CostRule rule = Info(c.method).cost;
  if (rule == models::CostRule::kTrajectory) {
    // E_t[3 f_{S,t}]: summed per iteration with the sparsities of that iteration.
    f.method = 3.0 * models::InferenceFlops(plan.layers, s);
  } else if (rule == models::CostRule::kPeriodicDense) {
    const double f_sparse = models::InferenceFlops(plan.layers, s);
    f.method = update_iteration ? 2.0 * f_sparse + f_dense : 3.0 * f_sparse;
  } else {
    // Small-Dense's "sparse" forward is the narrowed dense model's.
    const double f_sparse = c.method == Method::kSmallDense ? models::DenseInferenceFlops(plan.trained_layers)
                                                             : models::InferenceFlops(plan.layers, s);
    f.method = models::TrainFlopsPerStepFromForward(rule, f_dense, f_sparse, c.delta_t);
  }
  return f;
}

std::string FlopsReport(const TrainConfig& c) {
  const SparsityPlan plan = MakeSparsityPlan(c);
  models::TrainCostOptions o;
  o.rule = Info(c.method).cost;
  o.label = MethodName(c.method);
  o.delta_t = c.delta_t;
  std::ostringstream out;
  out << "model " << c.model << ", method " << MethodName(c.method) << ", sparsity " << c.sparsity << ", distribution "
      << c.distribution << (c.first_layer_dense ? " (first layer dense)" : "")
      << (c.block == "1x1" ? "" : ", block " + c.block + " (blocks rounded per layer; the table is per weight)")
      << "\n";
  if (o.rule == models::CostRule::kTrajectory) {
    // The pruning trajectory: the cubic schedule sampled at 0, 1/32, ..., 1 of training (RIGL.md 4.3).
    for (int i = 0; i <= 32; ++i) {
      const double p = std::clamp((i / 32.0 - c.prune_start) / (c.prune_end - c.prune_start), 0.0, 1.0);
      std::vector<double> st(plan.sparsities.size());
      for (size_t l = 0; l < st.size(); ++l) st[l] = plan.sparsities[l] * (1.0 - std::pow(1.0 - p, 3));
      o.pruning_sparsities.push_back(st);
    }
  }
  if (c.method == Method::kSmallDense) {
    out << "small-dense width multiplier " << plan.network.width_multiplier << " (bit size matched to the sparse "
        << "model)\n";
    out << models::FormatFlopsTable(plan.trained_layers, std::vector<double>(plan.trained_layers.size(), 0.0), o);
    out << "dense full-width model: " << models::DenseInferenceFlops(plan.layers) << " inference FLOPs\n";
    return out.str();
  }
  if (plan.distribution.epsilon > 0) out << "ER/ERK epsilon " << plan.distribution.epsilon << "\n";
  out << models::FormatFlopsTable(plan.layers, plan.sparsities, o);
  return out.str();
}

}  // namespace rigl
