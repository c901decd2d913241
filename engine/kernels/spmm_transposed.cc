// Transposed CSR SpMM (see spmm_transposed.h): row-parallel over rows of C through A's transposed index.
// AVX-512 path: rows of C in nnz-balanced chunks; within a chunk, groups of columns of A whose values are first
// gathered (through t_positions) into a per-thread buffer, then column tiles of C computed by the SpmmCsr tile.
#include "engine/kernels/spmm_transposed.h"

#include <omp.h>

#include <algorithm>

#include "engine/base/check.h"
#include "engine/base/cpu.h"
#include "engine/base/flop_counter.h"
#include "engine/kernels/spmm_tile.h"

namespace engine::kernels {
namespace {

// Gathered values of one group of columns: a fixed per-thread buffer (no allocation inside the kernel).
constexpr int64_t kGather = 16384;
alignas(64) thread_local float t_gathered[kGather];

// Rows [j_begin, j_end) of C (= columns of A), columns [t0, t0 + width) of C.
ENGINE_TARGET_AVX512 void SpmmTransposedItemAvx512(const CsrView& a, ConstDenseView b, DenseView c, int64_t j_begin,
                                                   int64_t j_end, int64_t t0, int64_t width, bool pack,
                                                   bool accumulate) {
  float* gathered = t_gathered;
  const float* slab = pack ? internal::PackSlab(b.data, b.ld, b.rows, t0, width) : b.data + t0;
  const int64_t ld_slab = pack ? width : b.ld;
  const int64_t* off = a.t_col_offsets;
  int64_t j = j_begin;
  while (j < j_end) {
    const int64_t q_begin = off[j];
    if (off[j + 1] - q_begin > kGather) {
      // --- one long column, in segments; later segments add to what earlier ones stored ---
      for (int64_t s = q_begin; s < off[j + 1]; s += kGather) {
        const int64_t count = std::min(kGather, off[j + 1] - s);
        for (int64_t q = 0; q < count; ++q) gathered[q] = a.values[a.t_positions[s + q]];
        const internal::TileInit init =
            (s == q_begin && !accumulate) ? internal::TileInit::kZero : internal::TileInit::kLoad;
        internal::SpmmTileDispatchAvx512(c.data + j * c.ld + t0, gathered, a.t_rows + s, count, slab, ld_slab, width,
                                         init, 0.0f, false);
      }
      ++j;
      continue;
    }
    // --- a group of whole columns [j, j_stop) holding at most kGather nonzeros ---
    int64_t j_stop = j + 1;
    while (j_stop < j_end && off[j_stop + 1] - q_begin <= kGather) ++j_stop;
    for (int64_t q = q_begin; q < off[j_stop]; ++q) gathered[q - q_begin] = a.values[a.t_positions[q]];
    const internal::TileInit init = accumulate ? internal::TileInit::kLoad : internal::TileInit::kZero;
    for (int64_t jj = j; jj < j_stop; ++jj) {
      internal::SpmmTileDispatchAvx512(c.data + jj * c.ld + t0, gathered + (off[jj] - q_begin), a.t_rows + off[jj],
                                       off[jj + 1] - off[jj], slab, ld_slab, width, init, 0.0f, false);
    }
    j = j_stop;
  }
}

void SpmmTransposedDriver(const CsrView& a, ConstDenseView b, DenseView c, bool accumulate) {
  ENGINE_DCHECK(a.rows == b.rows && a.cols == c.rows && b.cols == c.cols);
  ENGINE_DCHECK(a.nnz == 0 || a.t_col_offsets != nullptr);
  const int64_t k = a.cols, n = b.cols;
  if (ActiveIsa() == Isa::kAvx512 && a.t_col_offsets != nullptr && k > 0 && n > 0) {
    // Items are (column tile of C, nnz-balanced chunk of C's rows) pairs, as in SpmmCsr.
    const internal::TilePlan plan = internal::PlanTiles(b.rows, n);
    const int64_t tiles = (n + plan.width - 1) / plan.width;
    const int64_t chunks = std::min(k, (4 * int64_t{omp_get_max_threads()} + tiles - 1) / tiles);
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t item = 0; item < tiles * chunks; ++item) {
      const int64_t tile = item / chunks, chunk = item % chunks;
      const int64_t t0 = tile * plan.width;
      SpmmTransposedItemAvx512(a, b, c, internal::ChunkBegin(a.t_col_offsets, k, chunk, chunks),
                               internal::ChunkBegin(a.t_col_offsets, k, chunk + 1, chunks), t0,
                               std::min(plan.width, n - t0), plan.pack, accumulate);
    }
    FlopCounter::Add(2.0 * static_cast<double>(a.nnz) * static_cast<double>(n));
    return;
  }
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
