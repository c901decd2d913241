// Flatten module: [C, N, H, W] -> [C·H·W, N] in PyTorch feature order (see engine/ops/flatten.h).
#ifndef ENGINE_NN_FLATTEN_H_
#define ENGINE_NN_FLATTEN_H_

#include <string>

#include "engine/nn/module.h"

namespace engine::nn {

class FlattenModule : public Module {
 public:
  explicit FlattenModule(std::string name = "") : Module(std::move(name)) {}
  Variable Forward(const Variable& x) override;
};

}  // namespace engine::nn

#endif  // ENGINE_NN_FLATTEN_H_
