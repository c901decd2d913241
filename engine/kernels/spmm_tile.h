// Internal to engine/kernels: the AVX-512 row tile of SpmmCsr, the B-slab packing it uses, and the helper that
// splits rows into nnz-balanced chunks (also used by SddmmCsr).
// Only call the *Avx512 functions after engine::ActiveIsa() == Isa::kAvx512.
#ifndef ENGINE_KERNELS_SPMM_TILE_H_
#define ENGINE_KERNELS_SPMM_TILE_H_

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "engine/kernels/isa_target.h"
#include "engine/tensor/aligned.h"

namespace engine::kernels::internal {

// How a tile of C starts: zeros, a broadcast bias, or C's current contents (accumulate, or a later segment).
enum class TileInit { kZero, kBias, kLoad };
inline TileInit TileInitFor(bool accumulate, const float* bias) {
  return accumulate ? TileInit::kLoad : bias != nullptr ? TileInit::kBias : TileInit::kZero;
}

// The register-tile dispatchers switch on a tile's vector count, 1 to 8: CASE(V) for each.
#define ENGINE_FOR_VECTOR_COUNTS(CASE) CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6) CASE(7) CASE(8)

// A per-thread buffer (512 KiB, half the L2) into which a column slab B[:, j0 .. j0 + width) is copied so the
// random rows a tile reads are contiguous (a strided slab of a row-major B maps onto a fraction of the L2's sets
// and thrashes). Fixed size, so kernels never allocate.
constexpr int64_t kPackFloats = 131072;
inline float* PackBuffer() {
  alignas(64) static thread_local float buffer[kPackFloats];
  return buffer;
}

// How B is walked in column tiles: width (a multiple of 16, at most 128) and whether slabs are packed.
struct TilePlan {
  int64_t width;
  bool pack;
};
// Whole rows when B's row fits one tile (no packing needed); otherwise the widest tile whose packed slab of k_b
// rows fits PackBuffer(); if even 16 columns do not fit, unpacked 128-wide tiles.
inline TilePlan PlanTiles(int64_t k_b, int64_t n) {
  const int64_t n_rounded = std::max<int64_t>((n + 15) / 16 * 16, 16);
  if (n_rounded <= 128 && k_b * n_rounded * 4 <= 2 * kPackFloats * 4) return {n_rounded, false};
  for (int64_t width = 128; width >= 16; width /= 2) {
    if (k_b * width <= kPackFloats) return {std::min(width, n_rounded), true};
  }
  return {128, false};
}

// Copies B[0..k_b, j0 .. j0 + width) into PackBuffer() with row stride `width`; returns the buffer.
inline const float* PackSlab(const float* b, int64_t ld, int64_t k_b, int64_t j0, int64_t width) {
  float* out = PackBuffer();
  for (int64_t r = 0; r < k_b; ++r) std::memcpy(out + r * width, b + r * ld + j0, static_cast<size_t>(width) * 4);
  return out;
}

// Operands whose rows are read in random order (B of SpMM, X of SDDMM) and that are too large for the last-level
// cache: a 100000-wide layer's activations are 51 MB at n = 128, and every nonzero would fetch its 512-byte row from
// DRAM. Such calls walk the output in column tiles instead, all threads on one tile at a time, with the tile's slab
// of the operand (rows x width floats) packed contiguously into one buffer shared by the threads (a strided slab of
// a row-major operand maps onto width/128 of the cache's sets, so it would not fit either). Each operand row then
// comes from DRAM once per tile and is reused from the L3 by every nonzero in its column.
// The budget is 16 MiB, half this machine's 32 MiB L3 (a constant, so that the path, and with it the result's
// last bits, does not depend on what the OS reports: glibc's sysconf says 320 MiB here). Operands above it take the
// slab path, and a slab is the widest of 64, 32, 16 columns that fits it (16 when none does). A 100000-row operand
// gets 32-wide slabs of 12.8 MB: measured faster than 16 (6.4 MB) and 64 (25.6 MB, which thrashes).
constexpr int64_t kSlabBudgetBytes = int64_t{16} << 20;
inline bool UseSharedSlabs(int64_t rows, int64_t n) { return n >= 32 && rows * n * 4 > kSlabBudgetBytes; }
inline int64_t SharedSlabWidth(int64_t rows) {
  for (int64_t width = 64; width > 16; width /= 2) {
    if (rows * width * 4 <= kSlabBudgetBytes) return width;
  }
  return 16;
}
// The calling thread's slab buffer, grown to at least `floats` and kept (O(operand rows), never rows x cols).
inline float* SharedSlabBuffer(int64_t floats) {
  static thread_local AlignedVector<float> buffer;
  if (static_cast<int64_t>(buffer.size()) < floats) buffer.resize(static_cast<size_t>(floats));
  return buffer.data();
}
// Copies operand[0..rows, j0 .. j0 + width) into slab (row stride slab_ld) using the threads of the enclosing
// parallel region (an orphaned omp for; its implicit barrier ends the copy before anyone reads the slab).
inline void PackSharedSlab(const float* operand, int64_t ld, int64_t rows, int64_t j0, int64_t width, float* slab,
                           int64_t slab_ld) {
#pragma omp for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    std::memcpy(slab + r * slab_ld, operand + r * ld + j0, static_cast<size_t>(width) * 4);
  }
}

// Whether a kernel call of nnz * n multiply-adds is worth waking the thread pool: below about 20 microseconds of
// work one thread is faster than the fork/join (and far faster when other processes hold the other cores).
inline bool WorthThreads(int64_t nnz, int64_t n) { return nnz * n >= (int64_t{1} << 19); }

// First row r with offsets[r] >= target (offsets has rows + 1 entries, non-decreasing): chunk boundaries that give
// each chunk about the same number of nonzeros. Chunk c of `chunks` covers [ChunkBegin(c), ChunkBegin(c + 1)).
inline int64_t ChunkBegin(const int64_t* offsets, int64_t rows, int64_t chunk, int64_t chunks) {
  if (chunk <= 0) return 0;
  if (chunk >= chunks) return rows;
  const int64_t target = (offsets[rows] * chunk) / chunks;
  return std::lower_bound(offsets, offsets + rows, target) - offsets;
}

// The shared-slab walk (see UseSharedSlabs) of a kernel whose output rows follow a CSR pattern (row_offsets, m rows,
// nnz stored) and whose randomly read operand is rows x n (stride ld): column tiles one after the other, each packed
// once into the calling thread's slab by all threads, then split into nnz-balanced row chunks across the threads.
// Calls chunk_fn(slab, slab_ld, r0, r1, tile, j0, width) once per (tile, chunk). Which thread runs a chunk never
// changes what it computes, so results do not depend on the thread count.
template <typename ChunkFn>
void WalkSharedSlabs(const float* operand, int64_t ld, int64_t rows, int64_t n, const int64_t* row_offsets,
                     int64_t m, int64_t nnz, ChunkFn chunk_fn) {
  const int64_t width = SharedSlabWidth(rows);
  float* slab = SharedSlabBuffer(rows * width);
  const int64_t tiles = (n + width - 1) / width;
  const int64_t chunks = std::min<int64_t>(m, 4 * int64_t{omp_get_max_threads()});
#pragma omp parallel if (WorthThreads(nnz, n))
  for (int64_t tile = 0; tile < tiles; ++tile) {
    const int64_t j0 = tile * width, w = std::min(width, n - j0);
    PackSharedSlab(operand, ld, rows, j0, w, slab, width);
#pragma omp for schedule(dynamic, 1)
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      chunk_fn(slab, width, ChunkBegin(row_offsets, m, chunk, chunks), ChunkBegin(row_offsets, m, chunk + 1, chunks),
               tile, j0, w);
    }
  }
}

// c[0..width) (init) + sum over q < count of vals[q] * b[idx[q] * ldb + (0..width)], then max(., 0) if relu.
// width <= 16 * V; when kMasked is false, width must equal 16 * V. Nonzeros are spread over P independent
// accumulator sets (so at least 8 FMA chains are in flight) and the sets are added at the end: the summation
// order depends only on the data, never on threads.
template <int V, bool kMasked>
ENGINE_TARGET_AVX512 inline void SpmmTileAvx512(float* c, const float* vals, const int32_t* idx, int64_t count,
                                                const float* b, int64_t ldb, int64_t width, TileInit init,
                                                float bias, bool relu) {
  constexpr int P = V >= 8 ? 1 : 8 / V;
  __mmask16 mask[V];
#pragma GCC unroll 16
  for (int v = 0; v < V; ++v) {
    const int64_t rem = width - 16 * v;
    mask[v] = rem >= 16 ? __mmask16(0xFFFF) : rem > 0 ? __mmask16((1u << rem) - 1) : __mmask16(0);
  }
  __m512 acc[P][V];
#pragma GCC unroll 16
  for (int v = 0; v < V; ++v) {
    if (init == TileInit::kLoad) {
      acc[0][v] = kMasked ? _mm512_maskz_loadu_ps(mask[v], c + 16 * v) : _mm512_loadu_ps(c + 16 * v);
    } else {
      acc[0][v] = init == TileInit::kBias ? _mm512_set1_ps(bias) : _mm512_setzero_ps();
    }
#pragma GCC unroll 16
    for (int s = 1; s < P; ++s) acc[s][v] = _mm512_setzero_ps();
  }
  int64_t q = 0;
  for (; q + P <= count; q += P) {
#pragma GCC unroll 16
    for (int s = 0; s < P; ++s) {
      const float* b_row = b + int64_t{idx[q + s]} * ldb;  // row of B for this nonzero
      const __m512 a = _mm512_set1_ps(vals[q + s]);
#pragma GCC unroll 16
      for (int v = 0; v < V; ++v) {
        const __m512 bv = kMasked ? _mm512_maskz_loadu_ps(mask[v], b_row + 16 * v) : _mm512_loadu_ps(b_row + 16 * v);
        acc[s][v] = _mm512_fmadd_ps(a, bv, acc[s][v]);
      }
    }
  }
  for (; q < count; ++q) {
    const float* b_row = b + int64_t{idx[q]} * ldb;
    const __m512 a = _mm512_set1_ps(vals[q]);
#pragma GCC unroll 16
    for (int v = 0; v < V; ++v) {
      const __m512 bv = kMasked ? _mm512_maskz_loadu_ps(mask[v], b_row + 16 * v) : _mm512_loadu_ps(b_row + 16 * v);
      acc[0][v] = _mm512_fmadd_ps(a, bv, acc[0][v]);
    }
  }
#pragma GCC unroll 16
  for (int v = 0; v < V; ++v) {
#pragma GCC unroll 16
    for (int s = 1; s < P; ++s) acc[0][v] = _mm512_add_ps(acc[0][v], acc[s][v]);
    if (relu) acc[0][v] = _mm512_max_ps(acc[0][v], _mm512_setzero_ps());
    if (kMasked) {
      _mm512_mask_storeu_ps(c + 16 * v, mask[v], acc[0][v]);
    } else {
      _mm512_storeu_ps(c + 16 * v, acc[0][v]);
    }
  }
}

// One column tile [j0, j0 + width) of one row of C: picks the instantiation for the tile's vector count.
ENGINE_TARGET_AVX512 inline void SpmmTileDispatchAvx512(float* c, const float* vals, const int32_t* idx,
                                                        int64_t count, const float* b, int64_t ldb, int64_t width,
                                                        TileInit init, float bias, bool relu) {
  const bool full = width % 16 == 0;
  switch ((width + 15) / 16) {
#define ENGINE_SPMM_TILE_CASE(V)                                                               \
  case V:                                                                                      \
    if (full) {                                                                                \
      SpmmTileAvx512<V, false>(c, vals, idx, count, b, ldb, width, init, bias, relu);          \
    } else {                                                                                   \
      SpmmTileAvx512<V, true>(c, vals, idx, count, b, ldb, width, init, bias, relu);           \
    }                                                                                          \
    break;
    ENGINE_FOR_VECTOR_COUNTS(ENGINE_SPMM_TILE_CASE)
#undef ENGINE_SPMM_TILE_CASE
    default:
      break;
  }
}

}  // namespace engine::kernels::internal

#endif  // ENGINE_KERNELS_SPMM_TILE_H_
