// SGD with momentum (TF MomentumOptimizer semantics; see sgd.h).
#include "engine/optim/sgd.h"

#include <cstdint>

#include "engine/base/check.h"

namespace engine {
namespace {

// The update of n values in place. Each element is independent, so any thread split gives identical bits.
void Update(float* w, const float* grad, float* acc, int64_t n, float lr, float momentum, bool nesterov, float wd) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float g = grad[i] + wd * w[i];
    acc[i] = momentum * acc[i] + g;
    w[i] -= nesterov ? lr * (g + momentum * acc[i]) : lr * acc[i];
  }
}

}  // namespace

Sgd::Sgd(ParameterList params, SgdOptions options) : Optimizer(std::move(params)), options_(options) {
  ENGINE_CHECK(options_.momentum >= 0, "Sgd: momentum = ", options_.momentum, "; expected >= 0");
  ENGINE_CHECK(options_.weight_decay >= 0, "Sgd: weight_decay = ", options_.weight_decay, "; expected >= 0");
  ENGINE_CHECK(!options_.nesterov || options_.momentum > 0, "Sgd: nesterov with momentum = ", options_.momentum,
               "; expected momentum > 0");
  for (DenseParameter* p : params_.dense) {
    ENGINE_CHECK(p != nullptr && p->var.requires_grad(), "Sgd: dense parameter ", p ? p->name : "<null>",
                 " is not a Leaf; expected a trainable parameter");
    dense_momentum_.emplace_back(static_cast<size_t>(p->var.value().size()), 0.0f);
  }
  for (SparseParameter* p : params_.sparse) {
    ENGINE_CHECK(p != nullptr, "Sgd: null sparse parameter given; expected a parameter");
    sparse_momentum_.emplace_back(static_cast<size_t>(p->stored()), 0.0f);
  }
}

void Sgd::Step(float lr) {
  ENGINE_CHECK(lr >= 0, "Sgd::Step: lr = ", lr, "; expected >= 0");
  for (size_t k = 0; k < params_.dense.size(); ++k) {
    DenseParameter& p = *params_.dense[k];
    Tensor& w = p.var.value();
    const Tensor& g = p.var.grad();
    const bool decay = !(options_.exclude_1d_from_weight_decay && w.rank() == 1);
    Update(w.data(), g.data(), dense_momentum_[k].data(), w.size(), lr, options_.momentum, options_.nesterov,
           decay ? options_.weight_decay : 0.0f);
  }
  for (size_t k = 0; k < params_.sparse.size(); ++k) {
    SparseParameter& p = *params_.sparse[k];
    const int64_t nnz = p.stored();
    ENGINE_CHECK(static_cast<int64_t>(p.grad.size()) == nnz && static_cast<int64_t>(sparse_momentum_[k].size()) == nnz,
                 "Sgd::Step(", p.name, "): gradient has ", p.grad.size(), " and momentum ", sparse_momentum_[k].size(),
                 " entries; expected stored() = ", nnz, " each");
    Update(p.mutable_values().data(), p.grad.data(), sparse_momentum_[k].data(), nnz, lr, options_.momentum,
           options_.nesterov, options_.weight_decay);
  }
}

std::vector<float*> Sgd::SparseSlots(const SparseParameter& p) {
  const size_t k = SparseIndex(p, "Sgd::SparseSlots");
  ENGINE_CHECK(static_cast<int64_t>(sparse_momentum_[k].size()) == p.stored(), "Sgd::SparseSlots(", p.name,
               "): momentum has ", sparse_momentum_[k].size(), " entries; expected stored() = ", p.stored());
  return {sparse_momentum_[k].data()};
}

void Sgd::CollectState(std::vector<NamedBuffer>* out) {
  for (size_t k = 0; k < params_.dense.size(); ++k) {
    out->push_back({params_.dense[k]->name + ".momentum", dense_momentum_[k].data(),
                    static_cast<int64_t>(dense_momentum_[k].size())});
  }
  for (size_t k = 0; k < params_.sparse.size(); ++k) {
    out->push_back({params_.sparse[k]->name + ".momentum", sparse_momentum_[k].data(),
                    static_cast<int64_t>(sparse_momentum_[k].size())});
  }
}

}  // namespace engine
