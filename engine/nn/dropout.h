// Dropout module. Each training-mode Forward uses a fresh mask: the mask is a function of (seed, step), and step
// counts training-mode forwards. set_step() lets a resumed run continue the same sequence of masks.
#ifndef ENGINE_NN_DROPOUT_H_
#define ENGINE_NN_DROPOUT_H_

#include <cstdint>
#include <string>

#include "engine/nn/module.h"

namespace engine::nn {

class DropoutModule : public Module {
 public:
  // 0 <= p < 1. The module's mask stream is derived from (seed, hash of name).
  DropoutModule(std::string name, float p, uint64_t seed);
  Variable Forward(const Variable& x) override;

  uint64_t step() const { return step_; }
  void set_step(uint64_t step) { step_ = step; }
  float p() const { return p_; }

 private:
  float p_;
  uint64_t seed_;
  uint64_t step_ = 0;
};

}  // namespace engine::nn

#endif  // ENGINE_NN_DROPOUT_H_
