// Module base class defaults.
#include "engine/nn/module.h"

namespace engine::nn {

Module::~Module() = default;
void Module::CollectParameters(ParameterList*) {}
void Module::CollectBuffers(std::vector<std::pair<std::string, Tensor*>>*) {}

}  // namespace engine::nn
