// Theoretical FLOPs and model size (RIGL.md §4); see flops.h for the formulas.
#include "models/flops.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "engine/base/check.h"

namespace models {
namespace {

void CheckSparsities(const std::vector<LayerSpec>& layers, const std::vector<double>& sparsities,
                     const char* what) {
  ENGINE_CHECK(sparsities.size() == layers.size(), what, ": ", sparsities.size(), " sparsities for ", layers.size(),
               " layers; expected one per layer");
  for (size_t i = 0; i < layers.size(); ++i) {
    ENGINE_CHECK(sparsities[i] >= 0.0 && sparsities[i] <= 1.0, what, ": sparsity of '", layers[i].name, "' = ",
                 sparsities[i], "; expected 0 <= s <= 1");
  }
}

std::vector<double> LayerForward(const std::vector<LayerSpec>& layers, const std::vector<double>& sparsities) {
  std::vector<double> f(layers.size());
  for (size_t i = 0; i < layers.size(); ++i) f[i] = LayerInferenceFlops(layers[i], sparsities[i]);
  return f;
}

std::string Sci(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4e", v);
  return buf;
}

}  // namespace

double LayerInferenceFlops(const LayerSpec& layer, double sparsity) {
  ValidateLayerSpec(layer);
  ENGINE_CHECK(sparsity >= 0.0 && sparsity <= 1.0, "LayerInferenceFlops: sparsity of '", layer.name, "' = ",
               sparsity, "; expected 0 <= s <= 1");
  const double density = 1.0 - sparsity;
  if (layer.kind == LayerSpec::kDense) {
    return static_cast<double>(layer.time_steps) * static_cast<double>(layer.out_channels) *
           (2.0 * static_cast<double>(layer.in_channels) * density + 1.0);
  }
  // vec: the (fractional) number of nonzero weights feeding one output element.
  const double vec = static_cast<double>(layer.kernel_h * layer.kernel_w * layer.in_channels) * density;
  const double outputs = static_cast<double>(layer.OutputH() * layer.OutputW() * layer.CountedOutChannels());
  return outputs * (2.0 * vec + 1.0);
}

double InferenceFlops(const std::vector<LayerSpec>& layers, const std::vector<double>& sparsities) {
  CheckSparsities(layers, sparsities, "InferenceFlops");
  double total = 0.0;
  for (double f : LayerForward(layers, sparsities)) total += f;
  return total;
}

double DenseInferenceFlops(const std::vector<LayerSpec>& layers) {
  return InferenceFlops(layers, std::vector<double>(layers.size(), 0.0));
}

const char* CostRuleName(CostRule rule) {
  switch (rule) {
    case CostRule::kDense: return "dense";
    case CostRule::kSparse: return "sparse";
    case CostRule::kDenseWeightGradient: return "dense_weight_gradient";
    case CostRule::kPeriodicDense: return "periodic_dense";
    case CostRule::kTrajectory: return "trajectory";
  }
  return "?";
}

double TrainFlopsPerStepFromForward(CostRule rule, double f_dense, double f_sparse, int64_t delta_t) {
  switch (rule) {
    case CostRule::kDense: return 3.0 * f_dense;
    case CostRule::kSparse: return 3.0 * f_sparse;
    case CostRule::kDenseWeightGradient: return 2.0 * f_sparse + f_dense;
    case CostRule::kPeriodicDense: {
      // Per dT + 1 batches: dT sparse steps plus one update needing the dense weight gradient.
      ENGINE_CHECK(delta_t >= 1, "periodic-dense train FLOPs: delta_t = ", delta_t, "; expected >= 1");
      const double dt = static_cast<double>(delta_t);
      return (3.0 * f_sparse * dt + 2.0 * f_sparse + f_dense) / (dt + 1.0);
    }
    case CostRule::kTrajectory: break;
  }
  ENGINE_CHECK(false, "TrainFlopsPerStepFromForward: rule ", CostRuleName(rule),
               " needs a sparsity trajectory; expected TrainFlopsPerStep with options.pruning_sparsities");
  return 0.0;
}

std::vector<double> LayerTrainFlopsPerStep(const std::vector<LayerSpec>& layers, const std::vector<double>& sparsities,
                                           const TrainCostOptions& options) {
  CheckSparsities(layers, sparsities, "LayerTrainFlopsPerStep");
  std::vector<double> out(layers.size(), 0.0);
  if (options.rule == CostRule::kTrajectory) {
    ENGINE_CHECK(!options.pruning_sparsities.empty(),
                 "pruning train FLOPs: pruning_sparsities is empty; expected the per-layer sparsities at each "
                 "sampled step");
    for (const std::vector<double>& s_t : options.pruning_sparsities) {
      CheckSparsities(layers, s_t, "pruning train FLOPs (pruning_sparsities)");
      const std::vector<double> f = LayerForward(layers, s_t);
      for (size_t i = 0; i < layers.size(); ++i) out[i] += f[i];
    }
    const double samples = static_cast<double>(options.pruning_sparsities.size());
    for (double& v : out) v = 3.0 * v / samples;
    return out;
  }
  const std::vector<double> f_sparse = LayerForward(layers, sparsities);
  for (size_t i = 0; i < layers.size(); ++i) {
    const double f_dense = LayerInferenceFlops(layers[i], 0.0);
    out[i] = TrainFlopsPerStepFromForward(options.rule, f_dense, f_sparse[i], options.delta_t);
  }
  return out;
}

double TrainFlopsPerStep(const std::vector<LayerSpec>& layers, const std::vector<double>& sparsities,
                         const TrainCostOptions& options) {
  double total = 0.0;
  for (double f : LayerTrainFlopsPerStep(layers, sparsities, options)) total += f;
  return total;
}

double RelativeTrainFlops(const std::vector<LayerSpec>& layers, const std::vector<double>& sparsities,
                          const TrainCostOptions& options, double multiplier) {
  ENGINE_CHECK(multiplier > 0.0, "RelativeTrainFlops: multiplier = ", multiplier, "; expected > 0");
  return multiplier * TrainFlopsPerStep(layers, sparsities, options) / (3.0 * DenseInferenceFlops(layers));
}

double LayerSizeBits(const LayerSpec& layer, double sparsity) {
  ValidateLayerSpec(layer);
  ENGINE_CHECK(sparsity >= 0.0 && sparsity <= 1.0, "LayerSizeBits: sparsity of '", layer.name, "' = ", sparsity,
               "; expected 0 <= s <= 1");
  const double n = static_cast<double>(layer.N());
  const double weights = n * 32.0 * (1.0 - sparsity);
  const double mask = sparsity > 0.0 ? n : 0.0;
  const double bias = 32.0 * static_cast<double>(layer.CountedOutChannels());
  return weights + mask + bias;
}

double ModelSizeBits(const std::vector<LayerSpec>& layers, const std::vector<double>& sparsities) {
  CheckSparsities(layers, sparsities, "ModelSizeBits");
  double total = 0.0;
  for (size_t i = 0; i < layers.size(); ++i) total += LayerSizeBits(layers[i], sparsities[i]);
  return total;
}

double ModelSizeMegabytes(const std::vector<LayerSpec>& layers, const std::vector<double>& sparsities) {
  return ModelSizeBits(layers, sparsities) / 8e6;
}

std::string FormatFlopsTable(const std::vector<LayerSpec>& layers, const std::vector<double>& sparsities,
                             const TrainCostOptions& options) {
  CheckSparsities(layers, sparsities, "FormatFlopsTable");
  const std::vector<double> inference = LayerForward(layers, sparsities);
  const std::vector<double> train = LayerTrainFlopsPerStep(layers, sparsities, options);
  std::ostringstream out;
  char line[256];
  std::snprintf(line, sizeof(line), "%-32s %-18s %10s %9s %10s %12s %12s\n", "layer", "shape", "N", "sparsity", "nnz",
                "infer_FLOPs", "train_FLOPs");
  out << line;
  int64_t total_n = 0, total_nnz = 0;
  double total_inf = 0.0, total_train = 0.0;
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerSpec& l = layers[i];
    const int64_t n = l.N();
    const int64_t nnz = MaskNnz(n, sparsities[i]);
    std::snprintf(line, sizeof(line), "%-32s %-18s %10lld %9.6f %10lld %12s %12s%s\n", l.name.c_str(),
                  l.ShapeString().c_str(), static_cast<long long>(n), sparsities[i], static_cast<long long>(nnz),
                  Sci(inference[i]).c_str(), Sci(train[i]).c_str(), l.maskable ? "" : "  (not masked)");
    out << line;
    total_n += n;
    total_nnz += nnz;
    total_inf += inference[i];
    total_train += train[i];
  }
  const double sparsity = total_n == 0 ? 0.0 : 1.0 - static_cast<double>(total_nnz) / static_cast<double>(total_n);
  std::snprintf(line, sizeof(line), "%-32s %-18s %10lld %9.6f %10lld %12s %12s\n", "total", "",
                static_cast<long long>(total_n), sparsity, static_cast<long long>(total_nnz), Sci(total_inf).c_str(),
                Sci(total_train).c_str());
  out << line;
  const double dense = DenseInferenceFlops(layers);
  std::snprintf(line, sizeof(line),
                "method %s (delta_t %lld): inference %.4fx dense, training %.4fx dense per step; size %.4f MB "
                "(dense %.4f MB)\n",
                options.label.c_str(), static_cast<long long>(options.delta_t), total_inf / dense,
                total_train / (3.0 * dense), ModelSizeMegabytes(layers, sparsities),
                ModelSizeMegabytes(layers, std::vector<double>(layers.size(), 0.0)));
  out << line;
  return out.str();
}

}  // namespace models
