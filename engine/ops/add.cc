// Elementwise add: forward and backward side by side.
#include "engine/ops/add.h"

#include <cstdint>

#include "engine/base/check.h"

namespace engine {
namespace {

void AccumulateInto(const Variable& v, const Tensor& d_y) {
  if (!v.requires_grad()) return;
  float* d = v.grad().data();
  const float* g = d_y.data();
  const int64_t n = d_y.size();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) d[i] += g[i];
}

}  // namespace

// y = a + b.   da += dy;  db += dy.
Variable Add(const Variable& a, const Variable& b) {
  ENGINE_CHECK(a.defined() && b.defined(), "Add: undefined input; expected two variables");
  ENGINE_CHECK(a.shape() == b.shape(), "Add: shapes ", a.value().ShapeString(), " and ", b.value().ShapeString(),
               " given; expected identical shapes (no broadcasting)");
  Tensor y = Tensor::Uninitialized(a.shape());  // every element written below
  const float* pa = a.value().data();
  const float* pb = b.value().data();
  float* py = y.data();
  const int64_t n = y.size();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) py[i] = pa[i] + pb[i];
  return MakeResult(std::move(y), {a, b}, [a, b](const Tensor& d_y) {
    AccumulateInto(a, d_y);
    AccumulateInto(b, d_y);
  }, "add");
}

}  // namespace engine
