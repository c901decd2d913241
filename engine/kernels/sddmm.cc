// CSR SDDMM kernels (see sddmm.h): one dot product of two contiguous rows per stored position.
#include "engine/kernels/sddmm.h"

#include "engine/base/check.h"
#include "engine/base/flop_counter.h"

namespace engine::kernels {
namespace {

void SddmmDriver(const CsrView& pattern, ConstDenseView g, ConstDenseView x, float* out, bool accumulate) {
  ENGINE_DCHECK(pattern.rows == g.rows && pattern.cols == x.rows && g.cols == x.cols);
  const int64_t n = g.cols;
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t i = 0; i < pattern.rows; ++i) {
    const float* g_row = g.data + i * g.ld;
    for (int64_t p = pattern.row_offsets[i]; p < pattern.row_offsets[i + 1]; ++p) {
      const float* x_row = x.data + int64_t{pattern.col_indices[p]} * x.ld;
      float sum = 0.0f;
      for (int64_t t = 0; t < n; ++t) sum += g_row[t] * x_row[t];
      out[p] = accumulate ? out[p] + sum : sum;
    }
  }
  FlopCounter::Add(2.0 * static_cast<double>(pattern.nnz) * static_cast<double>(n));
}

}  // namespace

void SddmmCsr(const CsrView& pattern, ConstDenseView g, ConstDenseView x, float* out) {
  SddmmDriver(pattern, g, x, out, false);
}

void SddmmCsrAccumulate(const CsrView& pattern, ConstDenseView g, ConstDenseView x, float* out) {
  SddmmDriver(pattern, g, x, out, true);
}

void SddmmCsrNaive(const CsrView& pattern, ConstDenseView g, ConstDenseView x, float* out) {
  ENGINE_DCHECK(pattern.rows == g.rows && pattern.cols == x.rows && g.cols == x.cols);
  for (int64_t i = 0; i < pattern.rows; ++i) {
    for (int64_t p = pattern.row_offsets[i]; p < pattern.row_offsets[i + 1]; ++p) {
      float sum = 0.0f;
      for (int64_t t = 0; t < g.cols; ++t) sum += g.at(i, t) * x.at(pattern.col_indices[p], t);
      out[p] = sum;
    }
  }
  FlopCounter::Add(2.0 * static_cast<double>(pattern.nnz) * static_cast<double>(g.cols));
}

}  // namespace engine::kernels
