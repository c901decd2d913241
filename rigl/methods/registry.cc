// Method -> factory (see registry.h).
#include "rigl/methods/registry.h"

#include <utility>

#include "engine/base/check.h"

namespace rigl {

std::unique_ptr<TrainingMethod> MakeTrainingMethod(const MethodContext& context) {
  using Factory = std::unique_ptr<TrainingMethod> (*)(const MethodContext&);
  static const std::pair<Method, Factory> kRegistry[] = {
      {Method::kDense, MakeFixedTopology}, {Method::kStatic, MakeFixedTopology},
      {Method::kSmallDense, MakeFixedTopology}, {Method::kRigl, MakeRigl},
      {Method::kSet, MakeSet}, {Method::kSnfs, MakeSnfs},
      {Method::kSnip, MakeSnip}, {Method::kPruning, MakePruning},
      {Method::kRiglGlobal, MakeRiglGlobal}, {Method::kMest, MakeMest},
  };
  for (const auto& [method, factory] : kRegistry) {
    if (method == context.config->method) return factory(context);
  }
  ENGINE_CHECK(false, "no training method registered for --method=", MethodName(context.config->method));
  return nullptr;
}

}  // namespace rigl
