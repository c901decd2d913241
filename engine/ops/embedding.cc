// Embedding lookup: forward and backward side by side.
#include "engine/ops/embedding.h"

#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/base/check.h"

namespace engine {

// y[e, c] = W[id_c, e].   dW[id_c, e] += dy[e, c]: each thread owns whole rows e of dy (columns e of dW) and walks
// the columns c in order, so every element of dW has one writer and one summation order.
Variable Embedding(ConstDenseView ids, DenseParameter& table) {
  const Tensor& w = table.var.value();
  ENGINE_CHECK(w.rank() == 2 && w.dim(0) > 0 && w.dim(1) > 0, "Embedding(", table.name, "): table has shape ",
               w.ShapeString(), "; expected [vocabulary, dim]");
  const int64_t vocabulary = w.dim(0), dim = w.dim(1), steps = ids.rows, batch = ids.cols, n = steps * batch;
  ENGINE_CHECK(steps > 0 && batch > 0, "Embedding(", table.name, "): ids are ", steps, " x ", batch,
               "; expected at least one step and one sequence");
  auto rows = std::make_shared<std::vector<int32_t>>(static_cast<size_t>(n));
  for (int64_t t = 0; t < steps; ++t) {
    for (int64_t b = 0; b < batch; ++b) {
      const float v = ids.at(t, b);
      ENGINE_CHECK(v >= 0 && v < static_cast<float>(vocabulary) && v == std::floor(v), "Embedding(", table.name,
                   "): id ", v, " at step ", t, ", sequence ", b, "; expected a whole number in [0, ", vocabulary, ")");
      (*rows)[static_cast<size_t>(t * batch + b)] = static_cast<int32_t>(v);
    }
  }
  Tensor y({dim, n});
  const float* wd = w.data();
  const int32_t* id = rows->data();
  float* yd = y.data();
#pragma omp parallel for schedule(static)
  for (int64_t e = 0; e < dim; ++e) {
    float* y_row = yd + e * n;
    for (int64_t c = 0; c < n; ++c) y_row[c] = wd[int64_t{id[c]} * dim + e];
  }
  Variable wvar = table.var;
  return MakeResult(std::move(y), {wvar}, [wvar, rows, dim, n](const Tensor& d_y) {
    if (!wvar.requires_grad()) return;
    float* g = wvar.grad().data();
    const float* dy = d_y.data();
    const int32_t* id = rows->data();
#pragma omp parallel for schedule(static)
    for (int64_t e = 0; e < dim; ++e) {
      const float* dy_row = dy + e * n;
      for (int64_t c = 0; c < n; ++c) g[int64_t{id[c]} * dim + e] += dy_row[c];
    }
  }, table.name + ".out");
}

}  // namespace engine
