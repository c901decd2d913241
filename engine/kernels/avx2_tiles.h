// Internal to engine/kernels: the AVX2 (+FMA) row tiles of SpmmCsr and SddmmCsr, for CPUs without AVX-512 (AMD Zen 1-3,
// Intel Haswell to Comet Lake and most client chips). Same contracts and the same walk as the AVX-512 tiles of
// spmm_tile.h and sddmm.cc, at half the vector width and with 16 instead of 32 registers: a tile is at most 64
// columns (8 accumulators of 8 floats). Only call them after engine::ActiveIsa() >= Isa::kAvx2.
#ifndef ENGINE_KERNELS_AVX2_TILES_H_
#define ENGINE_KERNELS_AVX2_TILES_H_

#include <algorithm>
#include <cstdint>

#include "engine/kernels/isa_target.h"
#include "engine/kernels/spmm_tile.h"

namespace engine::kernels::internal {

// Widest column tile of the AVX2 tiles.
constexpr int64_t kAvx2TileWidth = 64;

// Lane mask for the first `rem` of 8 floats (all lanes when rem >= 8, none when rem <= 0).
ENGINE_TARGET_AVX2 inline __m256i Avx2Mask(int64_t rem) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(std::clamp<int64_t>(rem, 0, 8))), lanes);
}

// c[0..width) (init) + sum over q < count of vals[q] * b[idx[q] * ldb + (0..width)], then max(., 0) if relu.
// width <= 8 * V; when kMasked is false, width must equal 8 * V. Nonzeros are spread over P independent
// accumulator sets (at least 8 FMA chains in flight, the latency x throughput of two FMA pipes) and the sets are
// added at the end: the summation order depends only on the data, never on threads.
template <int V, bool kMasked>
ENGINE_TARGET_AVX2 inline void SpmmTileAvx2(float* c, const float* vals, const int32_t* idx, int64_t count,
                                            const float* b, int64_t ldb, int64_t width, TileInit init, float bias,
                                            bool relu) {
  constexpr int P = V >= 8 ? 1 : 8 / V;
  __m256i mask[V];
#pragma GCC unroll 8
  for (int v = 0; v < V; ++v) mask[v] = Avx2Mask(width - 8 * v);
  __m256 acc[P][V];
#pragma GCC unroll 8
  for (int v = 0; v < V; ++v) {
    if (init == TileInit::kLoad) {
      acc[0][v] = kMasked ? _mm256_maskload_ps(c + 8 * v, mask[v]) : _mm256_loadu_ps(c + 8 * v);
    } else {
      acc[0][v] = init == TileInit::kBias ? _mm256_set1_ps(bias) : _mm256_setzero_ps();
    }
#pragma GCC unroll 8
    for (int s = 1; s < P; ++s) acc[s][v] = _mm256_setzero_ps();
  }
  int64_t q = 0;
  for (; q + P <= count; q += P) {
#pragma GCC unroll 8
    for (int s = 0; s < P; ++s) {
      const float* b_row = b + int64_t{idx[q + s]} * ldb;  // row of B for this nonzero
      const __m256 a = _mm256_broadcast_ss(vals + q + s);
#pragma GCC unroll 8
      for (int v = 0; v < V; ++v) {
        const __m256 bv = kMasked ? _mm256_maskload_ps(b_row + 8 * v, mask[v]) : _mm256_loadu_ps(b_row + 8 * v);
        acc[s][v] = _mm256_fmadd_ps(a, bv, acc[s][v]);
      }
    }
  }
  for (; q < count; ++q) {
    const float* b_row = b + int64_t{idx[q]} * ldb;
    const __m256 a = _mm256_broadcast_ss(vals + q);
#pragma GCC unroll 8
    for (int v = 0; v < V; ++v) {
      const __m256 bv = kMasked ? _mm256_maskload_ps(b_row + 8 * v, mask[v]) : _mm256_loadu_ps(b_row + 8 * v);
      acc[0][v] = _mm256_fmadd_ps(a, bv, acc[0][v]);
    }
  }
#pragma GCC unroll 8
  for (int v = 0; v < V; ++v) {
#pragma GCC unroll 8
    for (int s = 1; s < P; ++s) acc[0][v] = _mm256_add_ps(acc[0][v], acc[s][v]);
    if (relu) acc[0][v] = _mm256_max_ps(acc[0][v], _mm256_setzero_ps());
    if (kMasked) {
      _mm256_maskstore_ps(c + 8 * v, mask[v], acc[0][v]);
    } else {
      _mm256_storeu_ps(c + 8 * v, acc[0][v]);
    }
  }
}

// One column tile [j0, j0 + width) of one row of C, width <= kAvx2TileWidth: picks the instantiation.
ENGINE_TARGET_AVX2 inline void SpmmTileDispatchAvx2(float* c, const float* vals, const int32_t* idx, int64_t count,
                                                    const float* b, int64_t ldb, int64_t width, TileInit init,
                                                    float bias, bool relu) {
  const bool full = width % 8 == 0;
  switch ((width + 7) / 8) {
#define ENGINE_SPMM_TILE_CASE(V)                                                     \
  case V:                                                                            \
    if (full) {                                                                      \
      SpmmTileAvx2<V, false>(c, vals, idx, count, b, ldb, width, init, bias, relu);  \
    } else {                                                                         \
      SpmmTileAvx2<V, true>(c, vals, idx, count, b, ldb, width, init, bias, relu);   \
    }                                                                                \
    break;
    ENGINE_FOR_VECTOR_COUNTS(ENGINE_SPMM_TILE_CASE)
#undef ENGINE_SPMM_TILE_CASE
    default:
      break;
  }
}

// A row of C over columns [0, width) of a slab (row stride ld_slab), any width: kAvx2TileWidth-wide pieces in order.
// Each piece is an independent set of output columns, so the split changes no sum.
ENGINE_TARGET_AVX2 inline void SpmmRowAvx2(float* c, const float* vals, const int32_t* idx, int64_t count,
                                           const float* slab, int64_t ld_slab, int64_t width, TileInit init,
                                           float bias, bool relu) {
  for (int64_t t = 0; t < width; t += kAvx2TileWidth) {
    SpmmTileDispatchAvx2(c + t, vals, idx, count, slab + t, ld_slab, std::min(kAvx2TileWidth, width - t), init, bias,
                         relu);
  }
}

// Lane s of the result is the sum of the 8 lanes of v[s].
ENGINE_TARGET_AVX2 inline __m256 ReduceEight(const __m256 v[8]) {
  // hadd pairs lanes within 128-bit halves: after two rounds, u0 holds per-half sums of v[0..3], u1 of v[4..7].
  const __m256 t0 = _mm256_hadd_ps(v[0], v[1]), t1 = _mm256_hadd_ps(v[2], v[3]);
  const __m256 t2 = _mm256_hadd_ps(v[4], v[5]), t3 = _mm256_hadd_ps(v[6], v[7]);
  const __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);
  // Low halves [v0..v3 | v4..v7] plus high halves of the same.
  return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

// out[q] (+)= <g_tile, X[idx[q], tile]> for q < count; the tile is `width` <= 8 * V columns. Eight nonzeros at a
// time: their dot products are formed side by side and reduced together, so each group of 8 outputs is one store.
template <int V, bool kMasked>
ENGINE_TARGET_AVX2 void SddmmRowTileAvx2(const float* g_tile, const float* x_tile, int64_t ldx, const int32_t* idx,
                                         int64_t count, int64_t width, bool add, float* out) {
  __m256i mask[V];
  __m256 g[V];
#pragma GCC unroll 8
  for (int v = 0; v < V; ++v) {
    mask[v] = Avx2Mask(width - 8 * v);
    g[v] = kMasked ? _mm256_maskload_ps(g_tile + 8 * v, mask[v]) : _mm256_loadu_ps(g_tile + 8 * v);
  }
  for (int64_t q0 = 0; q0 < count; q0 += 8) {
    const int64_t group = std::min<int64_t>(8, count - q0);
    __m256 part[8];
#pragma GCC unroll 8
    for (int s = 0; s < 8; ++s) {
      part[s] = _mm256_setzero_ps();
      if (s >= group) continue;
      const float* x_row = x_tile + int64_t{idx[q0 + s]} * ldx;  // row j of X
#pragma GCC unroll 8
      for (int v = 0; v < V; ++v) {
        const __m256 xv = kMasked ? _mm256_maskload_ps(x_row + 8 * v, mask[v]) : _mm256_loadu_ps(x_row + 8 * v);
        part[s] = _mm256_fmadd_ps(g[v], xv, part[s]);
      }
    }
    __m256 sums = ReduceEight(part);
    const __m256i out_mask = Avx2Mask(group);
    if (add) sums = _mm256_add_ps(sums, _mm256_maskload_ps(out + q0, out_mask));
    _mm256_maskstore_ps(out + q0, out_mask, sums);
  }
}

// One column tile of one row's dot products, width <= kAvx2TileWidth: picks the instantiation.
ENGINE_TARGET_AVX2 inline void SddmmRowTileDispatchAvx2(const float* g_tile, const float* x_tile, int64_t ldx,
                                                        const int32_t* idx, int64_t count, int64_t width, bool add,
                                                        float* out) {
  const bool full = width % 8 == 0;
  switch ((width + 7) / 8) {
#define ENGINE_SDDMM_CASE(V)                                                        \
  case V:                                                                           \
    if (full) {                                                                     \
      SddmmRowTileAvx2<V, false>(g_tile, x_tile, ldx, idx, count, width, add, out); \
    } else {                                                                        \
      SddmmRowTileAvx2<V, true>(g_tile, x_tile, ldx, idx, count, width, add, out);  \
    }                                                                               \
    break;
    ENGINE_FOR_VECTOR_COUNTS(ENGINE_SDDMM_CASE)
#undef ENGINE_SDDMM_CASE
    default:
      break;
  }
}

}  // namespace engine::kernels::internal

#endif  // ENGINE_KERNELS_AVX2_TILES_H_
