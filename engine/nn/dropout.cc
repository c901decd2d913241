// Dropout module: a step-counting wrapper over engine/ops/dropout.
#include "engine/nn/dropout.h"

#include "engine/base/check.h"
#include "engine/base/rng.h"
#include "engine/nn/init.h"
#include "engine/ops/dropout.h"

namespace engine::nn {

DropoutModule::DropoutModule(std::string name, float p, uint64_t seed)
    : Module(std::move(name)), p_(p), seed_(Mix64(seed) ^ NameHash(this->name())) {
  ENGINE_CHECK(p >= 0 && p < 1, "DropoutModule(", this->name(), "): p = ", p, "; expected 0 <= p < 1");
}

Variable DropoutModule::Forward(const Variable& x) {
  if (!training()) return Dropout(x, p_, false, seed_, step_);
  return Dropout(x, p_, true, seed_, step_++);
}

}  // namespace engine::nn
