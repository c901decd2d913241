// CSR SpMM kernels (see spmm.h): a row-parallel driver with an AVX-512 row kernel and a portable one.
#include "engine/kernels/spmm.h"

#include <algorithm>

#include "engine/base/check.h"
#include "engine/base/cpu.h"
#include "engine/base/flop_counter.h"

namespace engine::kernels {
namespace {

// Row i of C (portable): c_row = init + sum_p a[p] * B[col[p], :], then optional ReLU.
void SpmmRowPortable(const CsrView& a, ConstDenseView b, float* c_row, int64_t i, bool accumulate,
                     const float* bias, bool relu) {
  const int64_t n = b.cols;
  if (!accumulate) std::fill(c_row, c_row + n, bias != nullptr ? bias[i] : 0.0f);
  for (int64_t p = a.row_offsets[i]; p < a.row_offsets[i + 1]; ++p) {
    const float a_ip = a.values[p];
    const float* b_row = b.data + int64_t{a.col_indices[p]} * b.ld;
    for (int64_t j = 0; j < n; ++j) c_row[j] += a_ip * b_row[j];
  }
  if (relu) {
    for (int64_t j = 0; j < n; ++j) c_row[j] = std::max(c_row[j], 0.0f);
  }
}

void SpmmDriver(const CsrView& a, ConstDenseView b, DenseView c, bool accumulate, const float* bias, bool relu) {
  ENGINE_DCHECK(a.cols == b.rows && a.rows == c.rows && b.cols == c.cols);
  const int64_t m = a.rows;
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t i = 0; i < m; ++i) SpmmRowPortable(a, b, c.data + i * c.ld, i, accumulate, bias, relu);
  FlopCounter::Add(2.0 * static_cast<double>(a.nnz) * static_cast<double>(b.cols) +
                   (bias != nullptr ? 1.0 : 0.0) * static_cast<double>(m * b.cols) +
                   (relu ? 1.0 : 0.0) * static_cast<double>(m * b.cols));
}

}  // namespace

void SpmmCsr(const CsrView& a, ConstDenseView b, DenseView c, const float* bias, bool relu) {
  SpmmDriver(a, b, c, /*accumulate=*/false, bias, relu);
}

void SpmmCsrAccumulate(const CsrView& a, ConstDenseView b, DenseView c) {
  SpmmDriver(a, b, c, /*accumulate=*/true, nullptr, false);
}

void SpmmCsrNaive(const CsrView& a, ConstDenseView b, DenseView c, const float* bias, bool relu) {
  ENGINE_DCHECK(a.cols == b.rows && a.rows == c.rows && b.cols == c.cols);
  for (int64_t i = 0; i < a.rows; ++i) {
    for (int64_t j = 0; j < b.cols; ++j) {
      float sum = bias != nullptr ? bias[i] : 0.0f;
      for (int64_t p = a.row_offsets[i]; p < a.row_offsets[i + 1]; ++p) {
        sum += a.values[p] * b.data[int64_t{a.col_indices[p]} * b.ld + j];
      }
      c.data[i * c.ld + j] = relu ? std::max(sum, 0.0f) : sum;
    }
  }
  FlopCounter::Add(2.0 * static_cast<double>(a.nnz) * static_cast<double>(b.cols) +
                   (bias != nullptr ? 1.0 : 0.0) * static_cast<double>(a.rows * b.cols) +
                   (relu ? 1.0 : 0.0) * static_cast<double>(a.rows * b.cols));
}

}  // namespace engine::kernels
