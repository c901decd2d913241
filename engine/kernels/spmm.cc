// CSR SpMM kernels (see spmm.h). AVX-512 and AVX2 paths (one walk; AVX2 keeps 64-column register tiles, AVX-512
// 128): work items are (column tile, nnz-balanced chunk of rows) pairs; an item copies its column slab of B into a
// per-thread L2-sized buffer when B is too wide to stay in L2, then keeps a tile of each C row in registers across
// the whole row and stores it once. When B exceeds the last-level cache, the tiles are narrower and taken one at a
// time by all threads from one shared packed slab (spmm_tile.h). Portable path: plain C++, row by row.
#include "engine/kernels/spmm.h"

#include <omp.h>

#include <algorithm>

#include "engine/base/check.h"
#include "engine/base/cpu.h"
#include "engine/base/flop_counter.h"
#include "engine/kernels/avx2_tiles.h"
#include "engine/kernels/isa_target.h"
#include "engine/kernels/spmm_tile.h"

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

// Rows [r0, r1) of C, columns [j0, j0 + width), from the slab holding B's columns [j0, j0 + width) with row stride
// ld_slab: a tile of each C row kept in registers across the whole row (AVX2: in 64-column pieces).
template <Isa kIsa>
void SpmmRows(const CsrView& a, const float* slab, int64_t ld_slab, DenseView c, int64_t r0, int64_t r1, int64_t j0,
              int64_t width, bool accumulate, const float* bias, bool relu);

template <>
ENGINE_TARGET_AVX512 void SpmmRows<Isa::kAvx512>(const CsrView& a, const float* slab, int64_t ld_slab, DenseView c,
                                                 int64_t r0, int64_t r1, int64_t j0, int64_t width, bool accumulate,
                                                 const float* bias, bool relu) {
  const internal::TileInit init = internal::TileInitFor(accumulate, bias);
  for (int64_t i = r0; i < r1; ++i) {
    const int64_t p0 = a.row_offsets[i];
    internal::SpmmTileDispatchAvx512(c.data + i * c.ld + j0, a.values + p0, a.col_indices + p0,
                                     a.row_offsets[i + 1] - p0, slab, ld_slab, width, init,
                                     bias != nullptr ? bias[i] : 0.0f, relu);
  }
}

template <>
ENGINE_TARGET_AVX2 void SpmmRows<Isa::kAvx2>(const CsrView& a, const float* slab, int64_t ld_slab, DenseView c,
                                             int64_t r0, int64_t r1, int64_t j0, int64_t width, bool accumulate,
                                             const float* bias, bool relu) {
  const internal::TileInit init = internal::TileInitFor(accumulate, bias);
  for (int64_t i = r0; i < r1; ++i) {
    const int64_t p0 = a.row_offsets[i];
    internal::SpmmRowAvx2(c.data + i * c.ld + j0, a.values + p0, a.col_indices + p0, a.row_offsets[i + 1] - p0, slab,
                          ld_slab, width, init, bias != nullptr ? bias[i] : 0.0f, relu);
  }
}

// The vector paths (AVX-512 or AVX2): one walk, the row tile chosen by kIsa.
template <Isa kIsa>
void SpmmVector(const CsrView& a, ConstDenseView b, DenseView c, bool accumulate, const float* bias, bool relu) {
  const int64_t m = a.rows, n = b.cols;
  if (internal::UseSharedSlabs(b.rows, n)) {
    // B beyond the cache (spmm_tile.h): each C tile row from the shared slab of B.
    internal::WalkSharedSlabs(b.data, b.ld, b.rows, b.cols, a.row_offsets, a.rows, a.nnz,
                              [&](const float* slab, int64_t slab_ld, int64_t r0, int64_t r1, int64_t, int64_t j0,
                                  int64_t w) {
                                SpmmRows<kIsa>(a, slab, slab_ld, c, r0, r1, j0, w, accumulate, bias, relu);
                              });
    return;
  }
  // Work items are (column tile, nnz-balanced row chunk) pairs; each packs its slab of B once (into the thread's
  // L2 buffer, when the plan says so). The split changes only which thread computes a tile of a row, never how:
  // results do not depend on the thread count.
  const internal::TilePlan plan = internal::PlanTiles(b.rows, n);
  const int64_t tiles = (n + plan.width - 1) / plan.width;
  const int64_t chunks = std::min(m, (4 * int64_t{omp_get_max_threads()} + tiles - 1) / tiles);
#pragma omp parallel for schedule(dynamic, 1) if (internal::WorthThreads(a.nnz, n))
  for (int64_t item = 0; item < tiles * chunks; ++item) {
    const int64_t tile = item / chunks, chunk = item % chunks;
    const int64_t j0 = tile * plan.width, width = std::min(plan.width, n - j0);
    const float* slab = plan.pack ? internal::PackSlab(b.data, b.ld, b.rows, j0, width) : b.data + j0;
    SpmmRows<kIsa>(a, slab, plan.pack ? width : b.ld, c, internal::ChunkBegin(a.row_offsets, m, chunk, chunks),
                   internal::ChunkBegin(a.row_offsets, m, chunk + 1, chunks), j0, width, accumulate, bias, relu);
  }
}

void SpmmDriver(const CsrView& a, ConstDenseView b, DenseView c, bool accumulate, const float* bias, bool relu) {
  ENGINE_DCHECK(a.cols == b.rows && a.rows == c.rows && b.cols == c.cols);
  const int64_t m = a.rows, n = b.cols;
  const Isa isa = m > 0 && n > 0 ? ActiveIsa() : Isa::kPortable;
  if (isa == Isa::kAvx512) {
    SpmmVector<Isa::kAvx512>(a, b, c, accumulate, bias, relu);
  } else if (isa == Isa::kAvx2) {
    SpmmVector<Isa::kAvx2>(a, b, c, accumulate, bias, relu);
  } else {
#pragma omp parallel for schedule(dynamic, 16) if (internal::WorthThreads(a.nnz, n))
    for (int64_t i = 0; i < m; ++i) SpmmRowPortable(a, b, c.data + i * c.ld, i, accumulate, bias, relu);
  }
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
