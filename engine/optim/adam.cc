// Adam (see adam.h).
#include "engine/optim/adam.h"

#include <cmath>

#include "engine/base/check.h"

namespace engine {
namespace {

struct Coefficients {
  float beta1, beta2, eps, wd, lr, correction1, correction2;
};

// The update of n values in place; elements are independent, so any thread split gives identical bits.
void Update(float* w, const float* grad, float* m, float* v, int64_t n, const Coefficients& k) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float g = grad[i] + k.wd * w[i];
    m[i] = k.beta1 * m[i] + (1 - k.beta1) * g;
    v[i] = k.beta2 * v[i] + (1 - k.beta2) * g * g;
    w[i] -= k.lr * (m[i] / k.correction1) / (std::sqrt(v[i] / k.correction2) + k.eps);
  }
}

}  // namespace

Adam::Adam(ParameterList params, AdamOptions options) : Optimizer(std::move(params)), options_(options) {
  ENGINE_CHECK(options_.beta1 >= 0 && options_.beta1 < 1 && options_.beta2 >= 0 && options_.beta2 < 1,
               "Adam: beta1 = ", options_.beta1, ", beta2 = ", options_.beta2, "; expected both in [0, 1)");
  ENGINE_CHECK(options_.eps > 0, "Adam: eps = ", options_.eps, "; expected > 0");
  ENGINE_CHECK(options_.weight_decay >= 0, "Adam: weight_decay = ", options_.weight_decay, "; expected >= 0");
  for (DenseParameter* p : params_.dense) {
    ENGINE_CHECK(p != nullptr && p->var.requires_grad(), "Adam: dense parameter ", p ? p->name : "<null>",
                 " is not a Leaf; expected a trainable parameter");
    dense_m_.emplace_back(static_cast<size_t>(p->var.value().size()), 0.0f);
    dense_v_.emplace_back(static_cast<size_t>(p->var.value().size()), 0.0f);
  }
  for (SparseParameter* p : params_.sparse) {
    ENGINE_CHECK(p != nullptr, "Adam: null sparse parameter given; expected a parameter");
    sparse_m_.emplace_back(static_cast<size_t>(p->stored()), 0.0f);
    sparse_v_.emplace_back(static_cast<size_t>(p->stored()), 0.0f);
  }
}

void Adam::Step(float lr) {
  ENGINE_CHECK(lr >= 0, "Adam::Step: lr = ", lr, "; expected >= 0");
  step_count_ += 1;
  const double t = step_count_;
  const Coefficients k{options_.beta1, options_.beta2, options_.eps, options_.weight_decay, lr,
                       static_cast<float>(1 - std::pow(static_cast<double>(options_.beta1), t)),
                       static_cast<float>(1 - std::pow(static_cast<double>(options_.beta2), t))};
  for (size_t i = 0; i < params_.dense.size(); ++i) {
    DenseParameter& p = *params_.dense[i];
    Coefficients kp = k;
    if (options_.exclude_1d_from_weight_decay && p.var.value().rank() == 1) kp.wd = 0;
    Update(p.var.value().data(), p.var.grad().data(), dense_m_[i].data(), dense_v_[i].data(), p.var.value().size(),
           kp);
  }
  for (size_t i = 0; i < params_.sparse.size(); ++i) {
    SparseParameter& p = *params_.sparse[i];
    const int64_t nnz = p.stored();
    ENGINE_CHECK(static_cast<int64_t>(p.grad.size()) == nnz && static_cast<int64_t>(sparse_m_[i].size()) == nnz,
                 "Adam::Step(", p.name, "): gradient has ", p.grad.size(), " and moments ", sparse_m_[i].size(),
                 " entries; expected stored() = ", nnz, " each");
    Update(p.mutable_values().data(), p.grad.data(), sparse_m_[i].data(), sparse_v_[i].data(), nnz, k);
  }
}

std::vector<float*> Adam::SparseSlots(const SparseParameter& p) {
  const size_t k = SparseIndex(p, "Adam::SparseSlots");
  ENGINE_CHECK(static_cast<int64_t>(sparse_m_[k].size()) == p.stored(), "Adam::SparseSlots(", p.name,
               "): moments have ", sparse_m_[k].size(), " entries; expected stored() = ", p.stored());
  return {sparse_m_[k].data(), sparse_v_[k].data()};
}

void Adam::CollectState(std::vector<NamedBuffer>* out) {
  out->push_back({"adam.step", &step_count_, 1});
  for (size_t k = 0; k < params_.dense.size(); ++k) {
    const int64_t n = static_cast<int64_t>(dense_m_[k].size());
    out->push_back({params_.dense[k]->name + ".adam_m", dense_m_[k].data(), n});
    out->push_back({params_.dense[k]->name + ".adam_v", dense_v_[k].data(), n});
  }
  for (size_t k = 0; k < params_.sparse.size(); ++k) {
    const int64_t n = static_cast<int64_t>(sparse_m_[k].size());
    out->push_back({params_.sparse[k]->name + ".adam_m", sparse_m_[k].data(), n});
    out->push_back({params_.sparse[k]->name + ".adam_v", sparse_v_[k].data(), n});
  }
}

}  // namespace engine
