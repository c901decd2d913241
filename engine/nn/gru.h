// Gru module: one GRU layer over whole sequences (engine/ops/gru.h), PyTorch's nn.GRU parameters and names:
// "<name>.weight_ih_l0" [3H, in], "<name>.weight_hh_l0" [3H, H], "<name>.bias_ih_l0" and "<name>.bias_hh_l0" [3H],
// gates in the order r, z, n. Either weight may be dense or CSR (the plan decides). The input projections of every
// step are one product (dense GEMM or SpMM over [in, steps * batch]); the recurrence then runs step by step.
// Initialisation: the weights as Linear's (Glorot-uniform over each matrix's dense fans, Keras' GRU kernel default;
// stored positions only), biases zero.
#ifndef ENGINE_NN_GRU_H_
#define ENGINE_NN_GRU_H_

#include <cstdint>
#include <memory>
#include <string>

#include "engine/nn/linear.h"
#include "engine/nn/module.h"

namespace engine::nn {

class Gru : public Module {
 public:
  Gru(std::string name, int64_t in, int64_t hidden, WeightStorage ih, WeightStorage hh, uint64_t seed = 0,
      FanMode fan = FanMode::kDense);

  // x [in, steps * batch], columns time-major (t * batch + b); returns h [hidden, steps * batch], the state after each
  // step, from h_0 = 0.
  Variable Forward(const Variable& x, int64_t steps);
  // One step (steps = 1).
  Variable Forward(const Variable& x) override { return Forward(x, 1); }
  void CollectParameters(ParameterList* out) override;

  int64_t hidden() const { return hidden_; }

 private:
  int64_t in_, hidden_;
  LinearWeight ih_, hh_;
  std::unique_ptr<DenseParameter> bias_ih_, bias_hh_;
};

}  // namespace engine::nn

#endif  // ENGINE_NN_GRU_H_
