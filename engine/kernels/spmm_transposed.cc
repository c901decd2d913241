// Transposed CSR SpMM (see spmm_transposed.h). Fast path, when A's transposed index is given: Aᵀ's values are
// gathered into transposed order and the forward SpMM kernel runs on Aᵀ (SpmmTransposedViaIndex). Fallback: each
// work item owns a range of C's rows (= columns of A) and a column tile of C, sized so the item's slab of C stays in
// L2; it walks every row i of A in order, finds (by binary search) the nonzeros whose column falls in its range and
// adds a[i, j] * B[i, tile] to C[j, tile]. B's row tile is loaded once per row and reused from registers. Each C row
// has one owner and receives its terms in ascending i, whatever the split, so results are bitwise identical for any
// thread count.
#include "engine/kernels/spmm_transposed.h"

#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "engine/base/check.h"
#include "engine/base/cpu.h"
#include "engine/base/flop_counter.h"
#include "engine/kernels/isa_target.h"
#include "engine/kernels/spmm.h"
#include "engine/tensor/aligned.h"
#include "engine/kernels/spmm_tile.h"

namespace engine::kernels {
namespace {

// The split of C into items: `ranges` equal ranges of C's rows times column tiles of `width` floats.
struct ScatterPlan {
  int64_t width, tiles, ranges;
};

ScatterPlan PlanScatter(int64_t k, int64_t n) {
  constexpr int64_t kSlabFloats = 128 * 1024;  // 512 KiB of C per item: half the L2
  ScatterPlan plan;
  plan.width = std::min<int64_t>(std::max<int64_t>((n + 15) / 16 * 16, 16), 128);
  plan.tiles = (n + plan.width - 1) / plan.width;
  const int64_t for_cache = (k * plan.width + kSlabFloats - 1) / kSlabFloats;
  const int64_t for_threads = (4 * int64_t{omp_get_max_threads()} + plan.tiles - 1) / plan.tiles;
  plan.ranges = std::max<int64_t>(1, std::min(k, std::max(for_cache, for_threads)));
  return plan;
}

// Nonzeros of row i of A with column in [c0, c1): positions [*lo, *hi).
inline void RowSegment(const CsrView& a, int64_t i, int64_t c0, int64_t c1, int64_t* lo, int64_t* hi) {
  const int32_t* begin = a.col_indices + a.row_offsets[i];
  const int32_t* end = a.col_indices + a.row_offsets[i + 1];
  const int32_t* first = std::lower_bound(begin, end, static_cast<int32_t>(c0));
  const int32_t* last = std::lower_bound(first, end, static_cast<int32_t>(std::min<int64_t>(c1, INT32_MAX)));
  *lo = first - a.col_indices;
  *hi = last - a.col_indices;
}

// --- AVX-512: C[c0..c1, t0 .. t0 + width) with B's row tile in V registers ---
template <int V, bool kMasked>
ENGINE_TARGET_AVX512 void ScatterItemAvx512(const CsrView& a, ConstDenseView b, DenseView c, int64_t c0, int64_t c1,
                                            int64_t t0, int64_t width) {
  __mmask16 mask[V];
#pragma GCC unroll 16
  for (int v = 0; v < V; ++v) {
    const int64_t rem = width - 16 * v;
    mask[v] = rem >= 16 ? __mmask16(0xFFFF) : rem > 0 ? __mmask16((1u << rem) - 1) : __mmask16(0);
  }
  for (int64_t i = 0; i < a.rows; ++i) {
    int64_t lo, hi;
    RowSegment(a, i, c0, c1, &lo, &hi);
    if (lo == hi) continue;
    const float* b_row = b.data + i * b.ld + t0;  // row i of B, kept in registers for the whole segment
    __m512 bv[V];
#pragma GCC unroll 16
    for (int v = 0; v < V; ++v) {
      bv[v] = kMasked ? _mm512_maskz_loadu_ps(mask[v], b_row + 16 * v) : _mm512_loadu_ps(b_row + 16 * v);
    }
    for (int64_t p = lo; p < hi; ++p) {
      float* c_row = c.data + int64_t{a.col_indices[p]} * c.ld + t0;  // row j of C
      const __m512 av = _mm512_set1_ps(a.values[p]);
#pragma GCC unroll 16
      for (int v = 0; v < V; ++v) {
        if (kMasked) {
          const __m512 cv = _mm512_maskz_loadu_ps(mask[v], c_row + 16 * v);
          _mm512_mask_storeu_ps(c_row + 16 * v, mask[v], _mm512_fmadd_ps(av, bv[v], cv));
        } else {
          _mm512_storeu_ps(c_row + 16 * v, _mm512_fmadd_ps(av, bv[v], _mm512_loadu_ps(c_row + 16 * v)));
        }
      }
    }
  }
}

ENGINE_TARGET_AVX512 void ScatterItemDispatchAvx512(const CsrView& a, ConstDenseView b, DenseView c, int64_t c0,
                                                    int64_t c1, int64_t t0, int64_t width) {
  const bool full = width % 16 == 0;
  switch ((width + 15) / 16) {
#define ENGINE_SCATTER_CASE(V)                                      \
  case V:                                                           \
    if (full) {                                                     \
      ScatterItemAvx512<V, false>(a, b, c, c0, c1, t0, width);      \
    } else {                                                        \
      ScatterItemAvx512<V, true>(a, b, c, c0, c1, t0, width);       \
    }                                                               \
    break;
    ENGINE_FOR_VECTOR_COUNTS(ENGINE_SCATTER_CASE)
#undef ENGINE_SCATTER_CASE
    default:
      break;
  }
}

// --- portable: the same item in plain loops ---
void ScatterItemPortable(const CsrView& a, ConstDenseView b, DenseView c, int64_t c0, int64_t c1, int64_t t0,
                         int64_t width) {
  for (int64_t i = 0; i < a.rows; ++i) {
    int64_t lo, hi;
    RowSegment(a, i, c0, c1, &lo, &hi);
    const float* b_row = b.data + i * b.ld + t0;
    for (int64_t p = lo; p < hi; ++p) {
      float* c_row = c.data + int64_t{a.col_indices[p]} * c.ld + t0;
      const float a_ij = a.values[p];
      for (int64_t t = 0; t < width; ++t) c_row[t] += a_ij * b_row[t];
    }
  }
}

// With A's transposed index, Aᵀ is itself a CSR matrix (rows = A's columns, col_indices = t_rows) once its values
// are gathered into transposed order: an O(nnz) pass, 1/n of the product's work. The product then runs on the
// forward SpMM kernel, which reads B's rows instead of scattering into C's (half the memory traffic). Each row j
// of C still receives its terms in ascending i, so results do not depend on the thread count.
void SpmmTransposedViaIndex(const CsrView& a, ConstDenseView b, DenseView c, bool accumulate) {
  static thread_local AlignedVector<float> gathered;  // grows to the largest nnz seen; no per-call allocation
  if (static_cast<int64_t>(gathered.size()) < a.nnz) gathered.resize(a.nnz);
  float* values = gathered.data();
#pragma omp parallel for schedule(static) if (a.nnz > (1 << 16))
  for (int64_t q = 0; q < a.nnz; ++q) values[q] = a.values[a.t_positions[q]];
  CsrView at;
  at.rows = a.cols;
  at.cols = a.rows;
  at.nnz = a.nnz;
  at.row_offsets = a.t_col_offsets;
  at.col_indices = a.t_rows;
  at.values = values;
  if (accumulate) {
    SpmmCsrAccumulate(at, b, c);
  } else {
    SpmmCsr(at, b, c);
  }
}

void SpmmTransposedDriver(const CsrView& a, ConstDenseView b, DenseView c, bool accumulate) {
  ENGINE_DCHECK(a.rows == b.rows && a.cols == c.rows && b.cols == c.cols);
  const int64_t k = a.cols, n = b.cols;
  if (k == 0 || n == 0) return;
  if (a.t_positions != nullptr && a.t_col_offsets != nullptr && a.t_rows != nullptr) {
    SpmmTransposedViaIndex(a, b, c, accumulate);  // counts its FLOPs through SpmmCsr
    return;
  }
  const ScatterPlan plan = PlanScatter(k, n);
  const bool avx512 = ActiveIsa() == Isa::kAvx512;
#pragma omp parallel for schedule(dynamic, 1) if (internal::WorthThreads(a.nnz, n))
  for (int64_t item = 0; item < plan.tiles * plan.ranges; ++item) {
    const int64_t tile = item / plan.ranges, range = item % plan.ranges;
    const int64_t c0 = k * range / plan.ranges, c1 = k * (range + 1) / plan.ranges;
    const int64_t t0 = tile * plan.width, width = std::min(plan.width, n - t0);
    if (!accumulate) {
      for (int64_t j = c0; j < c1; ++j) std::fill(c.data + j * c.ld + t0, c.data + j * c.ld + t0 + width, 0.0f);
    }
    if (avx512) {
      ScatterItemDispatchAvx512(a, b, c, c0, c1, t0, width);
    } else {
      ScatterItemPortable(a, b, c, c0, c1, t0, width);
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
