// Elementwise activations: forward and backward side by side.
#include "engine/ops/activations.h"

#include <cstdint>

#include "engine/base/check.h"

namespace engine {

// y = max(x, 0).   dx += dy where y > 0 (the subgradient at 0 is taken as 0).
Variable Relu(const Variable& x) {
  ENGINE_CHECK(x.defined(), "Relu: undefined input; expected a variable");
  const Tensor& xv = x.value();
  Tensor y(xv.shape());
  const int64_t n = xv.size();
  const float* in = xv.data();
  float* out = y.data();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
  return MakeResult(std::move(y), {x}, [x](const Tensor& d_y) {
    const float* in = x.value().data();
    const float* g = d_y.data();
    float* d_x = x.grad().data();
    const int64_t n = d_y.size();
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) d_x[i] += in[i] > 0.0f ? g[i] : 0.0f;
  }, "relu");
}

}  // namespace engine
