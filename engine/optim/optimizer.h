// The optimizer interface shared by Sgd and Adam: a step from the current gradients, zeroing gradients, the
// per-position slot buffers of a sparse parameter (so RigL can carry them across a topology edit), and named
// state for checkpoints.
#ifndef ENGINE_OPTIM_OPTIMIZER_H_
#define ENGINE_OPTIM_OPTIMIZER_H_

#include <vector>

#include "engine/autograd/parameter.h"
#include "engine/optim/named_buffer.h"

namespace engine {

class Optimizer {
 public:
  explicit Optimizer(ParameterList params) : params_(std::move(params)) {}
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter from its current gradient.
  virtual void Step(float lr) = 0;
  // Zeroes every parameter gradient (dense and sparse).
  void ZeroGrad();
  // The per-position slot buffers of p, each with p.stored() entries. Throws if p is not managed here.
  virtual std::vector<float*> SparseSlots(const SparseParameter& p) = 0;
  // Every slot (and scalar state), named "<param>.<slot>", for checkpoints.
  virtual void CollectState(std::vector<NamedBuffer>* out) = 0;

  // Carries p's slots across a topology edit: map.Remap(buffer, 0) moves kept entries bit for bit and zeroes grown
  // ones. Map is engine::PositionMap (engine/sparse/topology_edit.h); a template so that this package needs no
  // dependency on the restricted //engine/sparse:topology_edit target (the caller, RigL, has it).
  template <typename Map>
  void RemapSparse(const SparseParameter& p, Map& map) {
    for (float* slot : SparseSlots(p)) map.Remap(slot, 0.0f);
  }

  const ParameterList& params() const { return params_; }

 protected:
  // Index of p in params().sparse; throws naming `who` when p is unknown.
  size_t SparseIndex(const SparseParameter& p, const char* who) const;

  ParameterList params_;
};

}  // namespace engine

#endif  // ENGINE_OPTIM_OPTIMIZER_H_
