// Gru module: parameters and the two ops of a layer (see gru.h).
#include "engine/nn/gru.h"

#include "engine/base/check.h"
#include "engine/ops/gru.h"

namespace engine::nn {

Gru::Gru(std::string name, int64_t in, int64_t hidden, WeightStorage ih, WeightStorage hh, uint64_t seed, FanMode fan)
    : Module(std::move(name)), in_(in), hidden_(hidden) {
  ENGINE_CHECK(in > 0 && hidden > 0, "nn::Gru(", this->name(), "): in = ", in, ", hidden = ", hidden,
               "; expected both > 0");
  ih_ = MakeLinearWeight(Child("weight_ih_l0"), in, 3 * hidden, ih, seed, fan);
  hh_ = MakeLinearWeight(Child("weight_hh_l0"), hidden, 3 * hidden, hh, seed, fan);
  bias_ih_ = std::make_unique<DenseParameter>(Child("bias_ih_l0"), Tensor({3 * hidden}));
  bias_hh_ = std::make_unique<DenseParameter>(Child("bias_hh_l0"), Tensor({3 * hidden}));
}

Variable Gru::Forward(const Variable& x, int64_t steps) {
  ENGINE_CHECK(x.value().rank() == 2 && x.shape()[0] == in_, "nn::Gru(", name(), "): input has shape ",
               x.value().ShapeString(), "; expected [", in_, ", steps * batch]");
  const Variable gi = ApplyLinear(x, ih_, bias_ih_.get());
  return GruRecurrence(gi, steps, {hh_.dense.get(), hh_.sparse.get()}, bias_hh_.get());
}

void Gru::CollectParameters(ParameterList* out) {
  CollectWeight(ih_, out);
  CollectWeight(hh_, out);
  out->dense.push_back(bias_ih_.get());
  out->dense.push_back(bias_hh_.get());
}

}  // namespace engine::nn
