// Uniform / ER / ERK per-layer sparsities (RIGL.md §1). The ER/ERK loop mirrors get_sparsities_erdos_renyi step by
// step, including its summation order, so ε matches the reference to the last bits where the inputs allow.
#include "rigl/sparsity_distribution.h"

#include <cmath>
#include <set>

#include "engine/base/check.h"

namespace rigl {
namespace {

int64_t Product(const std::vector<int64_t>& dims) {
  int64_t p = 1;
  for (int64_t d : dims) p *= d;
  return p;
}

void ValidateInputs(const std::vector<MaskedTensorShape>& tensors, const DistributionOptions& options) {
  ENGINE_CHECK(options.sparsity >= 0.0 && options.sparsity < 1.0, "sparsity distribution: sparsity S = ",
               options.sparsity, "; expected 0 <= S < 1");
  ENGINE_CHECK(std::isfinite(options.erk_power_scale) && options.erk_power_scale >= 0.0,
               "sparsity distribution: erk_power_scale = ", options.erk_power_scale, "; expected a finite value >= 0");
  std::set<std::string> names;
  for (const MaskedTensorShape& t : tensors) {
    ENGINE_CHECK(names.insert(t.name).second, "sparsity distribution: tensor name '", t.name,
                 "' appears twice; expected unique names");
    ENGINE_CHECK(!t.dims.empty(), "sparsity distribution: tensor '", t.name, "' has no dims; expected at least one");
    for (int64_t d : t.dims) {
      ENGINE_CHECK(d > 0, "sparsity distribution: tensor '", t.name, "' has dim ", d, "; expected every dim > 0");
    }
  }
  for (const auto& [name, value] : options.custom) {
    ENGINE_CHECK(names.count(name) == 1, "sparsity distribution: custom sparsity key '", name,
                 "' matches no masked layer; expected the name of a masked layer");
    ENGINE_CHECK(value >= 0.0 && value <= 1.0, "sparsity distribution: custom sparsity of '", name, "' = ", value,
                 "; expected 0 <= s <= 1");
  }
}

double RawProbability(const MaskedTensorShape& t, DistributionKind kind, double erk_power_scale) {
  if (kind == DistributionKind::kErdosRenyiKernel) {
    int64_t sum = 0;
    for (int64_t d : t.dims) sum += d;
    return std::pow(static_cast<double>(sum) / static_cast<double>(Product(t.dims)), erk_power_scale);
  }
  // ER: n_in, n_out are the last two dims (conv [kh,kw,cin,cout] -> cin, cout).
  ENGINE_CHECK(t.dims.size() >= 2, "sparsity distribution (erdos_renyi): tensor '", t.name, "' has ", t.dims.size(),
               " dim(s); expected at least 2 (n_in, n_out are the last two)");
  const double n_in = static_cast<double>(t.dims[t.dims.size() - 2]);
  const double n_out = static_cast<double>(t.dims[t.dims.size() - 1]);
  return (n_in + n_out) / (n_in * n_out);
}

}  // namespace

double SparsityDistribution::OverallSparsity() const {
  int64_t n = 0, nnz = 0;
  for (const LayerSparsity& l : layers) n += l.n, nnz += l.nnz;
  return n == 0 ? 0.0 : 1.0 - static_cast<double>(nnz) / static_cast<double>(n);
}

double SparsityDistribution::BudgetSparsity() const {
  int64_t n = 0, nnz = 0;
  for (const LayerSparsity& l : layers) {
    if (l.source == LayerSparsity::kDistributed || l.source == LayerSparsity::kForcedDense) n += l.n, nnz += l.nnz;
  }
  return n == 0 ? 0.0 : 1.0 - static_cast<double>(nnz) / static_cast<double>(n);
}

int64_t SparsityDistribution::TotalNnz() const {
  int64_t nnz = 0;
  for (const LayerSparsity& l : layers) nnz += l.nnz;
  return nnz;
}

std::vector<double> SparsityDistribution::Sparsities() const {
  std::vector<double> s;
  for (const LayerSparsity& l : layers) s.push_back(l.sparsity);
  return s;
}

SparsityDistribution ComputeSparsities(const std::vector<MaskedTensorShape>& tensors,
                                       const DistributionOptions& options) {
  ValidateInputs(tensors, options);
  const double S = options.sparsity;
  SparsityDistribution out;
  out.layers.resize(tensors.size());
  std::vector<double> p(tensors.size(), 0.0);
  for (size_t i = 0; i < tensors.size(); ++i) {
    LayerSparsity& l = out.layers[i];
    l.name = tensors[i].name;
    l.n = Product(tensors[i].dims);
    const auto custom = options.custom.find(l.name);
    if (custom != options.custom.end()) {
      l.source = LayerSparsity::kCustom;
      l.sparsity = custom->second;
    } else {
      l.sparsity = S;
      if (options.kind != DistributionKind::kUniform) {
        p[i] = RawProbability(tensors[i], options.kind, options.erk_power_scale);
        l.raw_probability = p[i];
      }
    }
  }

  if (options.kind != DistributionKind::kUniform) {
    // get_sparsities_erdos_renyi: ε = rhs / divisor; layers whose density ε*p_l would exceed 1 become dense (all
    // layers sharing the max p_l at once) and ε is recomputed, until no density exceeds 1.
    std::vector<bool> dense(tensors.size(), false);
    double eps = 0.0;
    while (true) {
      ++out.iterations;
      int64_t rhs = 0;
      double divisor = 0.0, max_p = -1.0;
      for (size_t i = 0; i < tensors.size(); ++i) {
        const LayerSparsity& l = out.layers[i];
        const int64_t zeros = l.n - models::MaskNnz(l.n, S);
        if (dense[i]) {
          rhs -= zeros;  // a dense layer keeps its would-be zeros, which the others must absorb
        } else if (l.source == LayerSparsity::kCustom) {
          continue;      // outside the budget
        } else {
          rhs += l.n - zeros;
          divisor += p[i] * static_cast<double>(l.n);
          if (p[i] > max_p) max_p = p[i];
        }
      }
      if (max_p < 0.0) break;  // nothing left to distribute: every budget layer is dense
      eps = static_cast<double>(rhs) / divisor;
      ENGINE_CHECK(eps > 0.0, "sparsity distribution: epsilon = ", eps, " at S = ", S,
                   "; expected > 0 (the layers forced dense use up the whole budget of ones)");
      if (max_p * eps <= 1.0) break;
      for (size_t i = 0; i < tensors.size(); ++i) {
        if (!dense[i] && out.layers[i].source != LayerSparsity::kCustom && p[i] == max_p) dense[i] = true;
      }
    }
    out.epsilon = eps;
    for (size_t i = 0; i < tensors.size(); ++i) {
      LayerSparsity& l = out.layers[i];
      if (l.source == LayerSparsity::kCustom) continue;
      if (dense[i]) {
        l.source = LayerSparsity::kForcedDense;
        l.sparsity = 0.0;
      } else {
        l.sparsity = 1.0 - eps * p[i];  // same product as the check above, so s >= 0
      }
    }
  }
  for (LayerSparsity& l : out.layers) l.nnz = models::MaskNnz(l.n, l.sparsity);
  return out;
}

SparsityDistribution ComputeSparsities(const std::vector<models::LayerSpec>& layers,
                                       const DistributionOptions& options) {
  std::vector<MaskedTensorShape> tensors;
  std::vector<int> index(layers.size(), -1);  // layer -> position in tensors, or -1 if not masked
  bool first_skipped = !options.first_layer_dense;
  for (size_t i = 0; i < layers.size(); ++i) {
    models::ValidateLayerSpec(layers[i]);
    if (!layers[i].maskable) continue;
    if (!first_skipped) {
      first_skipped = true;
      ENGINE_CHECK(options.custom.count(layers[i].name) == 0, "sparsity distribution: custom sparsity given for '",
                   layers[i].name, "', which first_layer_dense leaves unmasked; expected one of the two");
      continue;
    }
    index[i] = static_cast<int>(tensors.size());
    tensors.push_back({layers[i].name, layers[i].KernelDims()});
  }
  for (const auto& entry : options.custom) {
    for (const models::LayerSpec& l : layers) {
      ENGINE_CHECK(l.name != entry.first || l.maskable, "sparsity distribution: custom sparsity key '", entry.first,
                   "' names a layer that is not maskable; expected a maskable layer");
    }
  }
  const SparsityDistribution inner = ComputeSparsities(tensors, options);
  SparsityDistribution out;
  out.epsilon = inner.epsilon;
  out.iterations = inner.iterations;
  for (size_t i = 0; i < layers.size(); ++i) {
    if (index[i] >= 0) {
      out.layers.push_back(inner.layers[index[i]]);
    } else {
      LayerSparsity l;
      l.name = layers[i].name;
      l.n = layers[i].N();
      l.sparsity = 0.0;
      l.nnz = l.n;
      l.source = LayerSparsity::kNotMasked;
      out.layers.push_back(l);
    }
  }
  return out;
}

std::map<std::string, double> MnistMlpCustomMap(const std::vector<models::LayerSpec>& layers, double sparsity) {
  std::vector<const models::LayerSpec*> masked;
  for (const models::LayerSpec& l : layers) {
    if (l.maskable) masked.push_back(&l);
  }
  ENGINE_CHECK(masked.size() >= 3, "MnistMlpCustomMap: ", masked.size(),
               " maskable layers; expected at least 3 (layer1 at S, layer2 at 0.9*S, output dense)");
  return {{masked[1]->name, 0.9 * sparsity}, {masked.back()->name, 0.0}};
}

DistributionKind ParseDistributionKind(const std::string& name) {
  if (name == "uniform") return DistributionKind::kUniform;
  if (name == "er" || name == "erdos_renyi") return DistributionKind::kErdosRenyi;
  if (name == "erk" || name == "erdos_renyi_kernel") return DistributionKind::kErdosRenyiKernel;
  ENGINE_CHECK(false, "sparsity distribution: unknown name '", name,
               "'; expected uniform, er (erdos_renyi) or erk (erdos_renyi_kernel)");
  return DistributionKind::kUniform;
}

const char* DistributionKindName(DistributionKind kind) {
  switch (kind) {
    case DistributionKind::kUniform: return "uniform";
    case DistributionKind::kErdosRenyi: return "erdos_renyi";
    case DistributionKind::kErdosRenyiKernel: return "erdos_renyi_kernel";
  }
  return "?";
}

}  // namespace rigl
