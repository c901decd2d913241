// Gradient clipping by global norm (see clip.h).
#include "engine/optim/clip.h"

#include <cmath>

#include "engine/base/check.h"

namespace engine {

ClipResult ClipGradientsByGlobalNorm(const ParameterList& params, double max_norm) {
  ENGINE_CHECK(max_norm > 0 && std::isfinite(max_norm), "ClipGradientsByGlobalNorm: max_norm = ", max_norm,
               "; expected a finite number > 0");
  double sum = 0;
  auto add = [&sum](const float* g, int64_t n) {
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(g[i]) * g[i];
  };
  for (DenseParameter* p : params.dense) add(p->var.grad().data(), p->var.grad().size());
  for (SparseParameter* p : params.sparse) add(p->grad.data(), static_cast<int64_t>(p->grad.size()));
  ClipResult r;
  r.norm = std::sqrt(sum);
  if (!(r.norm > max_norm)) return r;
  r.clipped = true;
  const float scale = static_cast<float>(max_norm / r.norm);
  auto scale_all = [scale](float* g, int64_t n) {
    for (int64_t i = 0; i < n; ++i) g[i] *= scale;
  };
  for (DenseParameter* p : params.dense) scale_all(p->var.grad().data(), p->var.grad().size());
  for (SparseParameter* p : params.sparse) scale_all(p->grad.data(), static_cast<int64_t>(p->grad.size()));
  return r;
}

}  // namespace engine
