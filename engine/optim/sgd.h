// SGD with momentum, exactly as the RigL reference's TF MomentumOptimizer:
//   plain:    acc = μ·acc + g;  w -= lr·acc
//   Nesterov: acc = μ·acc + g;  w -= lr·(g + μ·acc)
// with L2 weight decay folded into the gradient first: g += wd·w. Sparse parameters keep one momentum slot of nnz
// entries aligned with their values and update only those values; after a topology edit RemapSparse carries the
// slot across (kept entries bit for bit, grown entries zero).
#ifndef ENGINE_OPTIM_SGD_H_
#define ENGINE_OPTIM_SGD_H_

#include <vector>

#include "engine/autograd/parameter.h"
#include "engine/optim/named_buffer.h"
#include "engine/tensor/aligned.h"

namespace engine {

struct SgdOptions {
  float momentum = 0.9f;
  bool nesterov = false;
  float weight_decay = 0;
  // When true, rank-1 dense parameters (biases, batch-norm scale and shift) get no weight decay.
  bool exclude_1d_from_weight_decay = false;
};

class Sgd {
 public:
  Sgd(ParameterList params, SgdOptions options);

  // One update of every parameter from its current gradient.
  void Step(float lr);
  // Zeroes every parameter gradient (dense and sparse).
  void ZeroGrad();

  // Carries p's momentum across a topology edit: map.Remap(buffer) moves kept entries bit for bit and zeroes
  // grown ones. Map is engine::PositionMap (engine/sparse/topology_edit.h); a template so that this package needs
  // no dependency on the restricted //engine/sparse:topology_edit target; the caller (RigL) has it.
  template <typename Map>
  void RemapSparse(const SparseParameter& p, Map& map) {
    for (float* slot : SparseSlots(p)) map.Remap(slot, 0.0f);
  }
  // The per-position slot buffers of p (one: momentum), each with p.weight.nnz() entries. Throws if p is unknown.
  std::vector<float*> SparseSlots(const SparseParameter& p);

  // Every slot, named "<param>.momentum", for checkpoints.
  void CollectState(std::vector<NamedBuffer>* out);
  const SgdOptions& options() const { return options_; }
  const ParameterList& params() const { return params_; }

 private:
  ParameterList params_;
  SgdOptions options_;
  std::vector<AlignedVector<float>> dense_momentum_;   // aligned with params_.dense
  std::vector<AlignedVector<float>> sparse_momentum_;  // aligned with params_.sparse
};

}  // namespace engine

#endif  // ENGINE_OPTIM_SGD_H_
