// BatchNorm2d module: per-channel batch normalisation of [C, N, H, W] (or [C, N]) activations, with parameters
// "<name>.weight" (gamma, init 1) and "<name>.bias" (beta, init 0), and buffers "<name>.running_mean" (init 0) and
// "<name>.running_var" (init 1). Momentum uses PyTorch's convention (see engine/ops/batch_norm.h).
#ifndef ENGINE_NN_BATCH_NORM_H_
#define ENGINE_NN_BATCH_NORM_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/autograd/parameter.h"
#include "engine/nn/module.h"

namespace engine::nn {

class BatchNorm2d : public Module {
 public:
  BatchNorm2d(std::string name, int64_t channels, float momentum = 0.1f, float eps = 1e-5f);

  Variable Forward(const Variable& x) override;
  void CollectParameters(ParameterList* out) override;
  void CollectBuffers(std::vector<std::pair<std::string, Tensor*>>* out) override;

  DenseParameter& gamma() { return gamma_; }
  DenseParameter& beta() { return beta_; }
  Tensor& running_mean() { return running_mean_; }
  Tensor& running_var() { return running_var_; }

 private:
  float momentum_, eps_;
  DenseParameter gamma_, beta_;
  Tensor running_mean_, running_var_;
};

}  // namespace engine::nn

#endif  // ENGINE_NN_BATCH_NORM_H_
