// Parameter-free activation modules.
#ifndef ENGINE_NN_ACTIVATIONS_H_
#define ENGINE_NN_ACTIVATIONS_H_

#include <string>

#include "engine/nn/module.h"

namespace engine::nn {

class ReluModule : public Module {
 public:
  explicit ReluModule(std::string name = "") : Module(std::move(name)) {}
  Variable Forward(const Variable& x) override;
};

class Relu6Module : public Module {
 public:
  explicit Relu6Module(std::string name = "") : Module(std::move(name)) {}
  Variable Forward(const Variable& x) override;
};

}  // namespace engine::nn

#endif  // ENGINE_NN_ACTIVATIONS_H_
