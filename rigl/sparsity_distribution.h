// Per-layer sparsities for a target overall sparsity S: Uniform, Erdős–Rényi (ER) and ER-Kernel (ERK), with a custom
// per-layer override map, exactly as RIGL.md §1 (the reference's get_sparsities / get_sparsities_erdos_renyi).
// Rounding: the CURRENT reference rule, target ones t_l = N_l - floor(S*N_l) (not the legacy int(N_l*(1-S))), and a
// mask of a layer at sparsity s has exactly N - floor(s*N) ones, the floor taken in double precision.
// Pure math: this file knows shapes and names only, never tensors or masks.
#ifndef RIGL_SPARSITY_DISTRIBUTION_H_
#define RIGL_SPARSITY_DISTRIBUTION_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "models/layer_spec.h"

namespace rigl {

enum class DistributionKind { kUniform, kErdosRenyi, kErdosRenyiKernel };

struct DistributionOptions {
  DistributionKind kind = DistributionKind::kUniform;
  double sparsity = 0.0;          // S, in [0, 1)
  double erk_power_scale = 1.0;   // ERK only: p_l = (sum dims / prod dims)^erk_power_scale; 0 gives uniform
  // Layer name -> sparsity in [0, 1]. Overrides the distribution; such layers are outside the S budget. A key that
  // matches no masked tensor is an error.
  std::map<std::string, double> custom;
  // LayerSpec overload only: the first maskable layer gets no mask (s = 0, outside the budget), like the reference's
  // first_layer_sparsity = 0 (the paper's Uniform convention for ResNet-50).
  bool first_layer_dense = false;
};

// One masked tensor as the algorithm sees it: a name and its kernel dims (TF layout, see LayerSpec::KernelDims).
struct MaskedTensorShape {
  std::string name;
  std::vector<int64_t> dims;
};

struct LayerSparsity {
  enum Source { kDistributed, kForcedDense, kCustom, kNotMasked };
  std::string name;
  int64_t n = 0;        // number of kernel weights
  double sparsity = 0;  // s_l
  int64_t nnz = 0;      // exact mask ones: n - floor(s_l * n)
  double raw_probability = 0;  // p_l (ER/ERK only; 0 otherwise)
  Source source = kDistributed;
};

struct SparsityDistribution {
  std::vector<LayerSparsity> layers;  // in input order
  double epsilon = 0;                 // ε of the final ER/ERK iteration; 0 for Uniform
  int iterations = 0;                 // ER/ERK passes until no density exceeded 1

  // Realised sparsity over all listed tensors, and over the distributed + forced-dense ones (the S budget).
  double OverallSparsity() const;
  double BudgetSparsity() const;
  int64_t TotalNnz() const;
  std::vector<double> Sparsities() const;  // s_l in layer order
};

// Exact ones in a mask: models::MaskNnz (models/layer_spec.h), the one rounding rule.

// The core algorithm on named shapes (RIGL.md §1.2/§1.3). Every tensor is masked; first_layer_dense is ignored here.
SparsityDistribution ComputeSparsities(const std::vector<MaskedTensorShape>& tensors,
                                       const DistributionOptions& options);

// On a model's layer table: non-maskable layers (and the first maskable one if first_layer_dense) are reported with
// s = 0 and source kNotMasked; the rest go through the core algorithm. Output has one entry per input layer.
SparsityDistribution ComputeSparsities(const std::vector<models::LayerSpec>& layers,
                                       const DistributionOptions& options);

// The MNIST MLP custom map of mnist_train_eval.py (RIGL.md §1.1): the second maskable layer at 0.9*S and the last
// maskable layer dense; use with kUniform at S so the first layer gets S.
std::map<std::string, double> MnistMlpCustomMap(const std::vector<models::LayerSpec>& layers, double sparsity);

// Parses "uniform", "er"/"erdos_renyi", "erk"/"erdos_renyi_kernel"; throws naming the value otherwise.
DistributionKind ParseDistributionKind(const std::string& name);
const char* DistributionKindName(DistributionKind kind);

}  // namespace rigl

#endif  // RIGL_SPARSITY_DISTRIBUTION_H_
