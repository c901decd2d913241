// Flatten module: a thin wrapper over engine/ops/flatten.
#include "engine/nn/flatten.h"

#include "engine/ops/flatten.h"

namespace engine::nn {

Variable FlattenModule::Forward(const Variable& x) { return Flatten(x); }

}  // namespace engine::nn
