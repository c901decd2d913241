// Dropout: forward and backward side by side; the mask is recomputed from the hash, never stored.
#include "engine/ops/dropout.h"

#include "engine/base/check.h"
#include "engine/base/rng.h"

namespace engine {

// y = x · m / (1 - p), m[i] = [HashUniform(seed, step, i) >= p].   dx += dy · m / (1 - p).
Variable Dropout(const Variable& x, float p, bool training, uint64_t seed, uint64_t step) {
  ENGINE_CHECK(x.defined(), "Dropout: undefined input; expected a variable");
  ENGINE_CHECK(p >= 0 && p < 1, "Dropout: p = ", p, "; expected 0 <= p < 1");
  if (!training || p == 0) return x;
  const float scale = 1.0f / (1.0f - p);
  Tensor y(x.shape());
  const float* in = x.value().data();
  float* out = y.data();
  const int64_t n = y.size();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    out[i] = HashUniform(seed, step, static_cast<uint64_t>(i)) >= p ? in[i] * scale : 0.0f;
  }
  return MakeResult(std::move(y), {x}, [x, p, scale, seed, step](const Tensor& d_y) {
    float* d_x = x.grad().data();
    const float* g = d_y.data();
    const int64_t n = d_y.size();
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      if (HashUniform(seed, step, static_cast<uint64_t>(i)) >= p) d_x[i] += g[i] * scale;
    }
  }, "dropout");
}

}  // namespace engine
