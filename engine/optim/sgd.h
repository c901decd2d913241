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
#include "engine/optim/optimizer.h"
#include "engine/tensor/aligned.h"

namespace engine {

struct SgdOptions {
  float momentum = 0.9f;
  bool nesterov = false;
  float weight_decay = 0;
  // When true, rank-1 dense parameters (biases, batch-norm scale and shift) get no weight decay.
  bool exclude_1d_from_weight_decay = false;
};

class Sgd : public Optimizer {
 public:
  Sgd(ParameterList params, SgdOptions options);

  // One update of every parameter from its current gradient.
  void Step(float lr) override;
  // One slot per sparse parameter: momentum, p.stored() entries. RemapSparse(p, map) (in Optimizer) carries it
  // across a topology edit.
  std::vector<float*> SparseSlots(const SparseParameter& p) override;
  // Every slot, named "<param>.momentum", for checkpoints.
  void CollectState(std::vector<NamedBuffer>* out) override;
  const SgdOptions& options() const { return options_; }

 private:
  SgdOptions options_;
  std::vector<AlignedVector<float>> dense_momentum_;   // aligned with params_.dense
  std::vector<AlignedVector<float>> sparse_momentum_;  // aligned with params_.sparse
};

}  // namespace engine

#endif  // ENGINE_OPTIM_SGD_H_
