// Activation modules: thin wrappers over engine/ops/activations.
#include "engine/nn/activations.h"

#include "engine/ops/activations.h"

namespace engine::nn {

Variable ReluModule::Forward(const Variable& x) { return Relu(x); }
Variable Relu6Module::Forward(const Variable& x) { return Relu6(x); }

}  // namespace engine::nn
