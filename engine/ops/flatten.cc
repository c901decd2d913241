// Flatten: a permutation copy forward, the inverse permutation backward.
#include "engine/ops/flatten.h"

#include <cstdint>

#include "engine/base/check.h"

namespace engine {

// y[(c·H + h)·W + w, n] = x[c, n, h, w].   dx[c, n, h, w] += dy[(c·H + h)·W + w, n].
Variable Flatten(const Variable& x) {
  ENGINE_CHECK(x.defined(), "Flatten: undefined input; expected a variable");
  const int rank = x.value().rank();
  ENGINE_CHECK(rank == 2 || rank == 4, "Flatten: input has shape ", x.value().ShapeString(),
               "; expected [C, N, H, W] (or [F, N], returned as is)");
  if (rank == 2) return x;
  const int64_t C = x.shape()[0], N = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const int64_t hw = H * W;
  Tensor y({C * hw, N});
  const float* in = x.value().data();
  float* out = y.data();
  // Legend: C channels, N batch, H/W spatial; plane (c, n) is contiguous in x.
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c) {
    for (int64_t n = 0; n < N; ++n) {
      const float* plane = in + (c * N + n) * hw;
      for (int64_t s = 0; s < hw; ++s) out[(c * hw + s) * N + n] = plane[s];
    }
  }
  return MakeResult(std::move(y), {x}, [x, C, N, hw](const Tensor& d_y) {
    float* d_x = x.grad().data();
    const float* g = d_y.data();
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < C; ++c) {
      for (int64_t n = 0; n < N; ++n) {
        float* plane = d_x + (c * N + n) * hw;
        for (int64_t s = 0; s < hw; ++s) plane[s] += g[(c * hw + s) * N + n];
      }
    }
  }, "flatten");
}

}  // namespace engine
