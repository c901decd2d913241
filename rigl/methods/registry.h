// The registry of training methods: one factory per method file, and MakeTrainingMethod, which picks the one
// config.method names.
#ifndef RIGL_METHODS_REGISTRY_H_
#define RIGL_METHODS_REGISTRY_H_

#include <memory>

#include "rigl/methods/training_method.h"

namespace rigl {

std::unique_ptr<TrainingMethod> MakeTrainingMethod(const MethodContext& context);

// One per file of rigl/methods/.
std::unique_ptr<TrainingMethod> MakeFixedTopology(const MethodContext& context);  // dense, static, small_dense
std::unique_ptr<TrainingMethod> MakeRigl(const MethodContext& context);
std::unique_ptr<TrainingMethod> MakeRiglGlobal(const MethodContext& context);
std::unique_ptr<TrainingMethod> MakeMest(const MethodContext& context);
std::unique_ptr<TrainingMethod> MakeSet(const MethodContext& context);
std::unique_ptr<TrainingMethod> MakeSnfs(const MethodContext& context);
std::unique_ptr<TrainingMethod> MakeSnip(const MethodContext& context);
std::unique_ptr<TrainingMethod> MakePruning(const MethodContext& context);

}  // namespace rigl

#endif  // RIGL_METHODS_REGISTRY_H_
