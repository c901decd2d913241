// Transposed CSR SpMM (see spmm_transposed.h): row-parallel over rows of C through A's transposed index.
#include "engine/kernels/spmm_transposed.h"

#include <algorithm>

#include "engine/base/check.h"
#include "engine/base/flop_counter.h"

namespace engine::kernels {
namespace {

void SpmmTransposedDriver(const CsrView& a, ConstDenseView b, DenseView c, bool accumulate) {
  ENGINE_DCHECK(a.rows == b.rows && a.cols == c.rows && b.cols == c.cols);
  ENGINE_DCHECK(a.nnz == 0 || a.t_col_offsets != nullptr);
  const int64_t k = a.cols, n = b.cols;
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t j = 0; j < k; ++j) {
    float* c_row = c.data + j * c.ld;  // row j of C = column j of A against rows of B
    if (!accumulate) std::fill(c_row, c_row + n, 0.0f);
    if (a.t_col_offsets == nullptr) continue;
    for (int64_t q = a.t_col_offsets[j]; q < a.t_col_offsets[j + 1]; ++q) {
      const float a_ij = a.values[a.t_positions[q]];
      const float* b_row = b.data + int64_t{a.t_rows[q]} * b.ld;
      for (int64_t t = 0; t < n; ++t) c_row[t] += a_ij * b_row[t];
    }
  }
  FlopCounter::Add(2.0 * static_cast<double>(a.nnz) * static_cast<double>(n));
}

}  // namespace

void SpmmCsrTransposed(const CsrView& a, ConstDenseView b, DenseView c) { SpmmTransposedDriver(a, b, c, false); }

void SpmmCsrTransposedAccumulate(const CsrView& a, ConstDenseView b, DenseView c) {
  SpmmTransposedDriver(a, b, c, true);
}

void SpmmCsrTransposedNaive(const CsrView& a, ConstDenseView b, DenseView c) {
  ENGINE_DCHECK(a.rows == b.rows && a.cols == c.rows && b.cols == c.cols);
  const int64_t n = b.cols;
  for (int64_t j = 0; j < c.rows; ++j) std::fill(c.data + j * c.ld, c.data + j * c.ld + n, 0.0f);
  // Scatter: row i of A sends a[i, col] * B[i, :] to row col of C.
  for (int64_t i = 0; i < a.rows; ++i) {
    for (int64_t p = a.row_offsets[i]; p < a.row_offsets[i + 1]; ++p) {
      float* c_row = c.data + int64_t{a.col_indices[p]} * c.ld;
      for (int64_t t = 0; t < n; ++t) c_row[t] += a.values[p] * b.data[i * b.ld + t];
    }
  }
  FlopCounter::Add(2.0 * static_cast<double>(a.nnz) * static_cast<double>(n));
}

}  // namespace engine::kernels
