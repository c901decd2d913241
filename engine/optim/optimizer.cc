// Optimizer base: shared bookkeeping.
#include "engine/optim/optimizer.h"

#include "engine/base/check.h"

namespace engine {

void Optimizer::ZeroGrad() {
  for (DenseParameter* p : params_.dense) p->ZeroGrad();
  for (SparseParameter* p : params_.sparse) p->ZeroGrad();
}

size_t Optimizer::SparseIndex(const SparseParameter& p, const char* who) const {
  for (size_t k = 0; k < params_.sparse.size(); ++k) {
    if (params_.sparse[k] == &p) return k;
  }
  ENGINE_CHECK(false, who, ": parameter ", p.name, " is not managed by this optimizer; expected one of the ",
               "ParameterList given at construction");
  return 0;
}

}  // namespace engine
