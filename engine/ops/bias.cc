// Per-row bias helpers for the linear ops.
#include "engine/ops/bias.h"

#include <cstdint>

#include "engine/base/fixed_order_sum.h"

namespace engine {

void AddBiasRows(const float* bias, DenseView y) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < y.rows; ++i) {
    float* row = y.row(i);
    for (int64_t j = 0; j < y.cols; ++j) row[j] += bias[i];
  }
}

void AccumulateRowSums(ConstDenseView d_y, float* d_bias) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < d_y.rows; ++i) {
    const float* row = d_y.row(i);
    d_bias[i] += static_cast<float>(FixedOrderSum(d_y.cols, [row](int64_t j) { return static_cast<double>(row[j]); }));
  }
}

}  // namespace engine
