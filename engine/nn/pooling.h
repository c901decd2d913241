// Parameter-free pooling modules over [C, N, H, W] activations (see engine/ops/pooling.h).
#ifndef ENGINE_NN_POOLING_H_
#define ENGINE_NN_POOLING_H_

#include <cstdint>
#include <string>

#include "engine/nn/module.h"

namespace engine::nn {

class MaxPool2dModule : public Module {
 public:
  MaxPool2dModule(int64_t kernel, int64_t stride, int64_t padding = 0, std::string name = "");
  Variable Forward(const Variable& x) override;

 private:
  int64_t kernel_, stride_, padding_;
};

class AvgPool2dModule : public Module {
 public:
  AvgPool2dModule(int64_t kernel, int64_t stride, int64_t padding = 0, std::string name = "");
  Variable Forward(const Variable& x) override;

 private:
  int64_t kernel_, stride_, padding_;
};

// [C, N, H, W] -> [C, N].
class GlobalAvgPoolModule : public Module {
 public:
  explicit GlobalAvgPoolModule(std::string name = "") : Module(std::move(name)) {}
  Variable Forward(const Variable& x) override;
};

}  // namespace engine::nn

#endif  // ENGINE_NN_POOLING_H_
