// Elementwise activations: forward and backward side by side.
#include "engine/ops/activations.h"

#include <cstdint>
#include <limits>

#include "engine/base/check.h"

namespace engine {
namespace {

// y = min(max(x, 0), hi).   dx += dy where 0 < x < hi (the subgradient at either kink is taken as 0).
Variable ClampFromZero(const Variable& x, float hi, const char* name) {
  ENGINE_CHECK(x.defined(), name, ": undefined input; expected a variable");
  const Tensor& xv = x.value();
  Tensor y = Tensor::Uninitialized(xv.shape());  // every element written below
  const int64_t n = xv.size();
  const float* in = xv.data();
  float* out = y.data();
  // Branch-free (a max and a min per element: the signs of activations are a coin toss for a branch predictor);
  // NaN maps to 0 as x > 0 is false.
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float t = in[i] > 0.0f ? in[i] : 0.0f;
    out[i] = t < hi ? t : hi;
  }
  return MakeResult(std::move(y), {x}, [x, hi](const Tensor& d_y) {
    const float* in = x.value().data();
    const float* g = d_y.data();
    float* d_x = x.grad().data();
    const int64_t n = d_y.size();
    const float top = hi;  // a local: the stores through d_x could otherwise alias the closure's copy
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      // Both loads unconditional and no short circuit, so the select is one vector mask.
      const float v = in[i], gi = g[i];
      const bool inside = (v > 0.0f) & (v < top);
      d_x[i] += inside ? gi : 0.0f;
    }
  }, name);
}

}  // namespace

Variable Relu(const Variable& x) { return ClampFromZero(x, std::numeric_limits<float>::infinity(), "relu"); }

Variable Relu6(const Variable& x) { return ClampFromZero(x, 6.0f, "relu6"); }

}  // namespace engine
