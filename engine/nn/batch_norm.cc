// BatchNorm2d module: parameters, buffers, and dispatch to engine/ops/batch_norm.
#include "engine/nn/batch_norm.h"

#include "engine/base/check.h"
#include "engine/ops/batch_norm.h"

namespace engine::nn {
namespace {

Tensor Filled(int64_t n, float value) {
  Tensor t({n});
  t.Fill(value);
  return t;
}

}  // namespace

BatchNorm2d::BatchNorm2d(std::string name, int64_t channels, float momentum, float eps)
    : Module(std::move(name)), momentum_(momentum), eps_(eps) {
  ENGINE_CHECK(channels >= 1, "BatchNorm2d(", this->name(), "): channels = ", channels, "; expected >= 1");
  gamma_ = DenseParameter(Child("weight"), Filled(channels, 1.0f));
  beta_ = DenseParameter(Child("bias"), Filled(channels, 0.0f));
  running_mean_ = Filled(channels, 0.0f);
  running_var_ = Filled(channels, 1.0f);
}

Variable BatchNorm2d::Forward(const Variable& x) {
  return BatchNorm(x, gamma_, beta_, running_mean_, running_var_, momentum_, eps_, training());
}

void BatchNorm2d::CollectParameters(ParameterList* out) {
  out->dense.push_back(&gamma_);
  out->dense.push_back(&beta_);
}

void BatchNorm2d::CollectBuffers(std::vector<std::pair<std::string, Tensor*>>* out) {
  out->emplace_back(Child("running_mean"), &running_mean_);
  out->emplace_back(Child("running_var"), &running_var_);
}

}  // namespace engine::nn
