// CSR SDDMM kernels (see sddmm.h). AVX-512 path: rows of the pattern in nnz-balanced chunks; for each row, a tile
// of up to 128 columns of G stays in registers while the dot products with X's rows are formed 16 nonzeros at a
// time and reduced together (a 16 x 16 transpose-and-add), so each group of 16 outputs is one vector store. When X
// exceeds the last-level cache, narrower column tiles are taken one at a time from a shared packed slab of X.
// AVX2 path: the same walk, 64 columns and 8 nonzeros at a time (avx2_tiles.h). Portable path: one plain dot
// product per stored position.
#include "engine/kernels/sddmm.h"

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

// Lane s of the result is the sum of the 16 lanes of v[s].
ENGINE_TARGET_AVX512 inline __m512 ReduceSixteen(const __m512 v[16]) {
  __m512 a[8], b[4], c[2];
  // 256-bit halves: [p.lo + p.hi | q.lo + q.hi] for pairs (p, q).
  for (int t = 0; t < 8; ++t) {
    a[t] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * t], v[2 * t + 1], 0x44),
                         _mm512_shuffle_f32x4(v[2 * t], v[2 * t + 1], 0xEE));
  }
  // 128-bit lanes.
  for (int t = 0; t < 4; ++t) {
    b[t] = _mm512_add_ps(_mm512_shuffle_f32x4(a[2 * t], a[2 * t + 1], 0x88),
                         _mm512_shuffle_f32x4(a[2 * t], a[2 * t + 1], 0xDD));
  }
  // Within 128-bit lanes: pairs, then singles.
  for (int t = 0; t < 2; ++t) {
    c[t] = _mm512_add_ps(_mm512_shuffle_ps(b[2 * t], b[2 * t + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_ps(b[2 * t], b[2 * t + 1], _MM_SHUFFLE(3, 2, 3, 2)));
  }
  const __m512 d = _mm512_add_ps(_mm512_shuffle_ps(c[0], c[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                 _mm512_shuffle_ps(c[0], c[1], _MM_SHUFFLE(3, 1, 3, 1)));
  // The network leaves source s in lane (s % 4) * 4 + s / 4; put it back in lane s.
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  return _mm512_permutexvar_ps(order, d);
}

// out[q] (+)= <g_tile, X[idx[q], tile]> for q < count; the tile is `width` <= 16 * V columns.
template <int V, bool kMasked>
ENGINE_TARGET_AVX512 void SddmmRowTileAvx512(const float* g_tile, const float* x_tile, int64_t ldx,
                                             const int32_t* idx, int64_t count, int64_t width, bool add,
                                             float* out) {
  __mmask16 mask[V];
  __m512 g[V];
#pragma GCC unroll 16
  for (int v = 0; v < V; ++v) {
    const int64_t rem = width - 16 * v;
    mask[v] = rem >= 16 ? __mmask16(0xFFFF) : rem > 0 ? __mmask16((1u << rem) - 1) : __mmask16(0);
    g[v] = kMasked ? _mm512_maskz_loadu_ps(mask[v], g_tile + 16 * v) : _mm512_loadu_ps(g_tile + 16 * v);
  }
  for (int64_t q0 = 0; q0 < count; q0 += 16) {
    const int64_t group = std::min<int64_t>(16, count - q0);
    __m512 part[16];
#pragma GCC unroll 16
    for (int s = 0; s < 16; ++s) {
      if (s >= group) {
        part[s] = _mm512_setzero_ps();
        continue;
      }
      const float* x_row = x_tile + int64_t{idx[q0 + s]} * ldx;  // row j of X
      __m512 even = _mm512_setzero_ps(), odd = _mm512_setzero_ps();
#pragma GCC unroll 16
      for (int v = 0; v < V; ++v) {
        const __m512 xv = kMasked ? _mm512_maskz_loadu_ps(mask[v], x_row + 16 * v) : _mm512_loadu_ps(x_row + 16 * v);
        if (v % 2 == 0) {
          even = _mm512_fmadd_ps(g[v], xv, even);
        } else {
          odd = _mm512_fmadd_ps(g[v], xv, odd);
        }
      }
      part[s] = _mm512_add_ps(even, odd);
    }
    __m512 sums = ReduceSixteen(part);
    const __mmask16 out_mask = group == 16 ? __mmask16(0xFFFF) : __mmask16((1u << group) - 1);
    if (add) sums = _mm512_add_ps(sums, _mm512_maskz_loadu_ps(out_mask, out + q0));
    _mm512_mask_storeu_ps(out + q0, out_mask, sums);
  }
}

ENGINE_TARGET_AVX512 void SddmmRowTileDispatchAvx512(const float* g_tile, const float* x_tile, int64_t ldx,
                                                     const int32_t* idx, int64_t count, int64_t width, bool add,
                                                     float* out) {
  const bool full = width % 16 == 0;
  switch ((width + 15) / 16) {
#define ENGINE_SDDMM_CASE(V)                                                        \
  case V:                                                                           \
    if (full) {                                                                     \
      SddmmRowTileAvx512<V, false>(g_tile, x_tile, ldx, idx, count, width, add, out); \
    } else {                                                                        \
      SddmmRowTileAvx512<V, true>(g_tile, x_tile, ldx, idx, count, width, add, out);  \
    }                                                                               \
    break;
    ENGINE_FOR_VECTOR_COUNTS(ENGINE_SDDMM_CASE)
#undef ENGINE_SDDMM_CASE
    default:
      break;
  }
}

// One row's dot products over one column tile of G and X (width <= 128 for AVX-512; AVX2 splits it into 64-column
// pieces, the first writing or adding as asked, the rest adding, in column order).
template <Isa kIsa>
void SddmmRowTile(const float* g_tile, const float* x_tile, int64_t ldx, const int32_t* idx, int64_t count,
                  int64_t width, bool add, float* out);

template <>
ENGINE_TARGET_AVX512 void SddmmRowTile<Isa::kAvx512>(const float* g_tile, const float* x_tile, int64_t ldx,
                                                     const int32_t* idx, int64_t count, int64_t width, bool add,
                                                     float* out) {
  SddmmRowTileDispatchAvx512(g_tile, x_tile, ldx, idx, count, width, add, out);
}

template <>
ENGINE_TARGET_AVX2 void SddmmRowTile<Isa::kAvx2>(const float* g_tile, const float* x_tile, int64_t ldx,
                                                 const int32_t* idx, int64_t count, int64_t width, bool add,
                                                 float* out) {
  // 64-column pieces measured faster than 32 on Zen 3 (45 vs 27 GFLOP/s at 4096 x 4096, density 0.1, n = 128).
  constexpr int64_t kPiece = internal::kAvx2TileWidth;
  for (int64_t t = 0; t < width; t += kPiece) {
    internal::SddmmRowTileDispatchAvx2(g_tile + t, x_tile + t, ldx, idx, count, std::min(kPiece, width - t),
                                       add || t > 0, out);
  }
}

// Rows [r0, r1) of the pattern; column tiles of 128 in order, the first writing (or adding, when accumulating).
template <Isa kIsa>
void SddmmChunk(const CsrView& pattern, ConstDenseView g, ConstDenseView x, float* out, int64_t r0, int64_t r1,
                bool accumulate) {
  constexpr int64_t kTile = 128;
  for (int64_t i = r0; i < r1; ++i) {
    const int64_t p0 = pattern.row_offsets[i], count = pattern.row_offsets[i + 1] - p0;
    if (count == 0) continue;
    for (int64_t t0 = 0; t0 < g.cols; t0 += kTile) {
      SddmmRowTile<kIsa>(g.data + i * g.ld + t0, x.data + t0, x.ld, pattern.col_indices + p0, count,
                         std::min(kTile, g.cols - t0), accumulate || t0 > 0, out + p0);
    }
  }
}

// The vector paths. X beyond the cache (spmm_tile.h, UseSharedSlabs): every row's dot products over one column tile
// at a time from the shared slab of X. Tile 0 writes (or adds, when accumulating); later tiles add, in tile order, so
// the sum order depends only on the shapes.
template <Isa kIsa>
void SddmmVector(const CsrView& pattern, ConstDenseView g, ConstDenseView x, float* out, bool accumulate) {
  const int64_t m = pattern.rows, n = g.cols;
  if (internal::UseSharedSlabs(x.rows, n)) {
    internal::WalkSharedSlabs(
        x.data, x.ld, x.rows, g.cols, pattern.row_offsets, pattern.rows, pattern.nnz,
        [&](const float* slab, int64_t slab_ld, int64_t r0, int64_t r1, int64_t tile, int64_t t0, int64_t w) {
          for (int64_t i = r0; i < r1; ++i) {
            const int64_t p0 = pattern.row_offsets[i], count = pattern.row_offsets[i + 1] - p0;
            if (count == 0) continue;
            SddmmRowTile<kIsa>(g.data + i * g.ld + t0, slab, slab_ld, pattern.col_indices + p0, count, w,
                               accumulate || tile > 0, out + p0);
          }
        });
    return;
  }
  const int64_t chunks = std::min<int64_t>(m, 4 * int64_t{omp_get_max_threads()});
#pragma omp parallel for schedule(dynamic, 1) if (internal::WorthThreads(pattern.nnz, n))
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    SddmmChunk<kIsa>(pattern, g, x, out, internal::ChunkBegin(pattern.row_offsets, m, chunk, chunks),
                     internal::ChunkBegin(pattern.row_offsets, m, chunk + 1, chunks), accumulate);
  }
}

void SddmmDriver(const CsrView& pattern, ConstDenseView g, ConstDenseView x, float* out, bool accumulate) {
  ENGINE_DCHECK(pattern.rows == g.rows && pattern.cols == x.rows && g.cols == x.cols);
  const int64_t m = pattern.rows, n = g.cols;
  const Isa isa = m > 0 && n > 0 ? ActiveIsa() : Isa::kPortable;
  if (isa == Isa::kAvx512) {
    SddmmVector<Isa::kAvx512>(pattern, g, x, out, accumulate);
  } else if (isa == Isa::kAvx2) {
    SddmmVector<Isa::kAvx2>(pattern, g, x, out, accumulate);
  } else {
#pragma omp parallel for schedule(dynamic, 16) if (internal::WorthThreads(pattern.nnz, n))
    for (int64_t i = 0; i < m; ++i) {
      const float* g_row = g.data + i * g.ld;
      for (int64_t p = pattern.row_offsets[i]; p < pattern.row_offsets[i + 1]; ++p) {
        const float* x_row = x.data + int64_t{pattern.col_indices[p]} * x.ld;
        float sum = 0.0f;
        for (int64_t t = 0; t < n; ++t) sum += g_row[t] * x_row[t];
        out[p] = accumulate ? out[p] + sum : sum;
      }
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
