// Sequential container.
#include "engine/nn/sequential.h"

#include "engine/base/check.h"

namespace engine::nn {

Module* Sequential::Add(std::unique_ptr<Module> module) {
  ENGINE_CHECK(module != nullptr, "Sequential(", name(), ")::Add: null module given; expected a module");
  module->SetTraining(training());
  children_.push_back(std::move(module));
  return children_.back().get();
}

Variable Sequential::Forward(const Variable& x) {
  Variable h = x;
  for (auto& child : children_) h = child->Forward(h);
  return h;
}

void Sequential::CollectParameters(ParameterList* out) {
  for (auto& child : children_) child->CollectParameters(out);
}

void Sequential::CollectBuffers(std::vector<std::pair<std::string, Tensor*>>* out) {
  for (auto& child : children_) child->CollectBuffers(out);
}

void Sequential::SetTraining(bool training) {
  Module::SetTraining(training);
  for (auto& child : children_) child->SetTraining(training);
}

}  // namespace engine::nn
