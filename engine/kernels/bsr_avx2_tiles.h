// Internal to engine/kernels (bsr_spmm.cc): the AVX2 (+FMA) register tiles of SpmmBsr, SpmmBsrTransposed and
// SddmmBsr, for CPUs without AVX-512 (AMD Zen 1-3, Intel Haswell to Comet Lake). The same walks as the AVX-512 tiles
// of bsr_spmm.cc at half the vector width and with 16 instead of 32 registers: tiles span fewer columns, an 8-row
// SpmmBsr block is computed as two 4-row halves and a 4x4 SDDMM block as two 2x4 halves (each half is a disjoint set
// of outputs, so the split changes no sum). Only call them after engine::ActiveIsa() >= Isa::kAvx2, on full block
// rows (the drivers send clipped ones to the portable loops). Summation orders: see bsr_spmm.h. At the end, the tables
// that pick a kernel for a block shape, and SpmmBsr's slab walk (B packed in 16-column slabs that fit the L2).
// A (the pattern) is m x k in BSR with BR x BC blocks; B, C, G, X dense row-major; n is the contiguous batch axis.
#ifndef ENGINE_KERNELS_BSR_AVX2_TILES_H_
#define ENGINE_KERNELS_BSR_AVX2_TILES_H_

#include <algorithm>
#include <cstdint>

#include <omp.h>

#include "engine/kernels/avx2_tiles.h"
#include "engine/kernels/isa_target.h"
#include "engine/kernels/spmm_tile.h"
#include "engine/sparse/bsr.h"
#include "engine/tensor/views.h"

namespace engine::kernels::internal {

// Rows of block row ib / entries of block column jb that lie inside the matrix (the last ones may be clipped).
inline int64_t BsrRowsIn(const BsrView& a, int64_t ib) { return std::min(a.block_rows, a.rows - ib * a.block_rows); }
inline int64_t BsrColsIn(const BsrView& a, int64_t jb) { return std::min(a.block_cols, a.cols - jb * a.block_cols); }

// The transposed product reaches values through t_block_positions, i.e. at random: prefetched this many blocks ahead.
constexpr int64_t kBsrValuesPrefetch = 8;
// The AVX2 SDDMM prefetches the X rows of the next group of blocks while it works on one (this Zen 3: 1.1-1.3x at
// 4096 x 4096, n = 128; prefetching B in the AVX2 SpMM tiles, 6-24 blocks ahead, measured no gain or a loss).
constexpr int64_t kBsrSddmmPrefetchGroups = 1;

// Partial accumulator sets of the transposed tiles: enough that P * BC * J >= 8 FMA chains are independent (P
// divides BR, a power of 2 here). Row r of a block feeds set r % P; the sets are added in a fixed order at the end.
template <int BR, int BC, int J>
constexpr int BsrPartialSets() {
  int p = 1;
  while (p < BR && p * BC * J < 8) p *= 2;
  return p;
}

// Eight floats at p: all of them, or the lanes of `mask` (the rest read as 0).
template <bool kMasked>
ENGINE_TARGET_AVX2 inline __m256 LoadAvx2(const float* p, __m256i mask) {
  return kMasked ? _mm256_maskload_ps(p, mask) : _mm256_loadu_ps(p);
}

// A row piece of J vectors (8 J floats) at p, to or from v; when kTail, the last vector covers only the lanes of
// `tail` (the others read as 0 and are never written).
template <int J, bool kTail>
ENGINE_TARGET_AVX2 inline void LoadRowAvx2(const float* p, __m256i tail, __m256 (&v)[J]) {
#pragma GCC unroll 8
  for (int j = 0; j < J; ++j) v[j] = kTail && j == J - 1 ? LoadAvx2<true>(p + 8 * j, tail) : _mm256_loadu_ps(p + 8 * j);
}
template <int J, bool kTail>
ENGINE_TARGET_AVX2 inline void StoreRowAvx2(float* p, __m256i tail, const __m256 (&v)[J]) {
#pragma GCC unroll 8
  for (int j = 0; j < J; ++j) {
    if (kTail && j == J - 1) {
      _mm256_maskstore_ps(p + 8 * j, tail, v[j]);
    } else {
      _mm256_storeu_ps(p + 8 * j, v[j]);
    }
  }
}

// ============================== SpmmBsr ==============================

// acc[r][:] += v[r * bc] * b_row[0 .. 8 J): one column of a block (v points at its row-0 entry) times a row of B.
template <int R, int J, bool kTail>
ENGINE_TARGET_AVX2 inline void SpmmBsrStepAvx2(__m256 (&acc)[R][J], const float* v, int64_t bc, const float* b_row,
                                               __m256i tail) {
  __m256 bv[J];
  LoadRowAvx2<J, kTail>(b_row, tail, bv);
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    const __m256 av = _mm256_broadcast_ss(v + r * bc);
#pragma GCC unroll 8
    for (int j = 0; j < J; ++j) acc[r][j] = _mm256_fmadd_ps(av, bv[j], acc[r][j]);
  }
}

// Rows [r0, r0 + R) of full block row ib (blocks BR x BC; BC = 0: read a.block_cols) of C, columns [t0, t0 + 8 J),
// from b: column t0 of B's row 0 (B itself or a packed slab of it), row stride ldb. When kTail, the last vector holds
// only the lanes of `tail`. The R x J accumulators stay in registers across all blocks of the row, each starting from
// bias (or 0, or C when accumulating); each loaded vector of B feeds R FMAs.
template <int BR, int R, int BC, int J, bool kTail>
ENGINE_TARGET_AVX2 void SpmmBsrTileAvx2(const BsrView& a, const float* b, int64_t ldb, DenseView c, int64_t ib, int r0,
                                        int64_t t0, __m256i tail, bool accumulate, const float* bias, bool relu) {
  const int64_t bc = BC > 0 ? BC : a.block_cols;
  const int64_t bs = BR * bc;
  const int64_t last_jb = a.col_blocks - 1, last_cols = a.cols - last_jb * bc;
  const int64_t row0 = ib * BR + r0;
  float* c0 = c.data + row0 * c.ld + t0;
  __m256 acc[R][J];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    if (accumulate) {
      LoadRowAvx2<J, kTail>(c0 + r * c.ld, tail, acc[r]);
      continue;
    }
    const __m256 init = _mm256_set1_ps(bias != nullptr ? bias[row0 + r] : 0.0f);
#pragma GCC unroll 8
    for (int j = 0; j < J; ++j) acc[r][j] = init;
  }
  const int64_t p_end = a.block_row_offsets[ib + 1];
  for (int64_t p = a.block_row_offsets[ib]; p < p_end; ++p) {
    const int64_t jb = a.block_col_indices[p];
    const int64_t cols_in = jb == last_jb ? last_cols : bc;
    const float* v = a.values + p * bs + r0 * bc;
    const float* b0 = b + jb * bc * ldb;
    if (BC > 0 && cols_in == BC) {  // a full block: the column loop unrolled
#pragma GCC unroll 8
      for (int q = 0; q < BC; ++q) SpmmBsrStepAvx2<R, J, kTail>(acc, v + q, bc, b0 + q * ldb, tail);
    } else {
      for (int64_t q = 0; q < cols_in; ++q) SpmmBsrStepAvx2<R, J, kTail>(acc, v + q, bc, b0 + q * ldb, tail);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    if (relu) {
#pragma GCC unroll 8
      for (int j = 0; j < J; ++j) acc[r][j] = _mm256_max_ps(acc[r][j], _mm256_setzero_ps());
    }
    StoreRowAvx2<J, kTail>(c0 + r * c.ld, tail, acc[r]);
  }
}

// The columns left after the full tiles: `vectors` (1 .. JMax) vectors, the last holding `left` (1 .. 8) floats.
template <int BR, int R, int BC, int JMax>
ENGINE_TARGET_AVX2 void SpmmBsrRemainderAvx2(const BsrView& a, const float* b, int64_t ldb, DenseView c, int64_t ib,
                                             int r0, int64_t t0, bool accumulate, const float* bias, bool relu,
                                             int64_t vectors, int64_t left) {
  if constexpr (JMax >= 1) {
    if (vectors != JMax) {
      SpmmBsrRemainderAvx2<BR, R, BC, JMax - 1>(a, b, ldb, c, ib, r0, t0, accumulate, bias, relu, vectors, left);
    } else if (left == 8) {
      SpmmBsrTileAvx2<BR, R, BC, JMax, false>(a, b, ldb, c, ib, r0, t0, __m256i{}, accumulate, bias, relu);
    } else {
      SpmmBsrTileAvx2<BR, R, BC, JMax, true>(a, b, ldb, c, ib, r0, t0, Avx2Mask(left), accumulate, bias, relu);
    }
  }
}

// Columns [t_begin, t_end) of full block row ib, R rows at a time: tiles of J vectors, then one narrower tile for the
// rest. b points at column t_begin of B's row 0 (B itself, or a packed slab of those columns), row stride ldb.
template <int BR, int R, int BC, int J>
ENGINE_TARGET_AVX2 void SpmmBsrColumnsAvx2(const BsrView& a, const float* b, int64_t ldb, DenseView c, int64_t ib,
                                           int64_t t_begin, int64_t t_end, bool accumulate, const float* bias,
                                           bool relu) {
  static_assert(BR % R == 0, "row halves must tile the block");
  for (int r0 = 0; r0 < BR; r0 += R) {
    int64_t t0 = t_begin;
    for (; t0 + 8 * J <= t_end; t0 += 8 * J) {
      SpmmBsrTileAvx2<BR, R, BC, J, false>(a, b + (t0 - t_begin), ldb, c, ib, r0, t0, __m256i{}, accumulate, bias,
                                           relu);
    }
    if (t0 < t_end) {
      const int64_t vectors = (t_end - t0 + 7) / 8;
      SpmmBsrRemainderAvx2<BR, R, BC, J>(a, b + (t0 - t_begin), ldb, c, ib, r0, t0, accumulate, bias, relu, vectors,
                                         t_end - t0 - 8 * (vectors - 1));
    }
  }
}

// Full block row ib, every column of B.
template <int BR, int R, int BC, int J>
ENGINE_TARGET_AVX2 void SpmmBsrBlockRowAvx2(const BsrView& a, ConstDenseView b, DenseView c, int64_t ib,
                                            bool accumulate, const float* bias, bool relu) {
  SpmmBsrColumnsAvx2<BR, R, BC, J>(a, b.data, b.ld, c, ib, 0, b.cols, accumulate, bias, relu);
}

// The slab walk's columns of block row ib: the 4-row, 2-vector tile (16 floats, one cache line of each slab row).
constexpr int64_t kBsrSlabWidth = 16;
template <int BR, int BC>
ENGINE_TARGET_AVX2 void SpmmBsrSlabColumnsAvx2(const BsrView& a, const float* slab, int64_t ld_slab, DenseView c,
                                               int64_t ib, int64_t t0, int64_t t1, bool accumulate, const float* bias,
                                               bool relu) {
  SpmmBsrColumnsAvx2<BR, 4, BC, kBsrSlabWidth / 8>(a, slab, ld_slab, c, ib, t0, t1, accumulate, bias, relu);
}

// ============================== SpmmBsrTransposed ==============================

// BC rows x J vectors of C at columns [t0, t0 + 8 J) (the last vector masked by `tail` when kTail) for full output
// block row jb, with block_rows BR: the sum over the blocks of block column jb of A (transposed index, block rows
// ascending) of blockᵀ times the matching rows of B, over P partial sets (BsrPartialSets).
template <int BR, int BC, int J, int P, bool kTail>
ENGINE_TARGET_AVX2 void SpmmBsrTTileAvx2(const BsrView& a, ConstDenseView b, DenseView c, int64_t jb, int64_t t0,
                                         __m256i tail, bool accumulate) {
  constexpr int64_t bs = BR * BC;
  float* c0 = c.data + jb * BC * c.ld + t0;
  __m256 acc[P][BC][J];
#pragma GCC unroll 8
  for (int u = 0; u < P; ++u) {
#pragma GCC unroll 8
    for (int q = 0; q < BC; ++q) {
      if (accumulate && u == 0) {
        LoadRowAvx2<J, kTail>(c0 + q * c.ld, tail, acc[0][q]);
        continue;
      }
#pragma GCC unroll 8
      for (int j = 0; j < J; ++j) acc[u][q][j] = _mm256_setzero_ps();
    }
  }
  const int64_t s_end = a.t_block_col_offsets[jb + 1];
  for (int64_t s = a.t_block_col_offsets[jb]; s < s_end; ++s) {
    const int64_t ib = a.t_block_rows[s];
    const float* v = a.values + a.t_block_positions[s] * bs;
    const float* b0 = b.data + ib * BR * b.ld + t0;
    if (s + kBsrValuesPrefetch < s_end) {
      _mm_prefetch(reinterpret_cast<const char*>(a.values + a.t_block_positions[s + kBsrValuesPrefetch] * bs),
                   _MM_HINT_T0);
    }
    // The clipped last block row of A has only its rows inside the matrix in B; they all feed set 0.
    const bool full = BsrRowsIn(a, ib) == BR;
    const int rows_in = full ? BR : static_cast<int>(BsrRowsIn(a, ib));
#pragma GCC unroll 8
    for (int r = 0; r < BR; ++r) {
      if (!full && r >= rows_in) break;
      const int set = full ? r % P : 0;
      __m256 bv[J];
      LoadRowAvx2<J, kTail>(b0 + r * b.ld, tail, bv);
#pragma GCC unroll 8
      for (int q = 0; q < BC; ++q) {
        const __m256 av = _mm256_broadcast_ss(v + r * BC + q);
#pragma GCC unroll 8
        for (int j = 0; j < J; ++j) acc[set][q][j] = _mm256_fmadd_ps(av, bv[j], acc[set][q][j]);
      }
    }
  }
#pragma GCC unroll 8
  for (int q = 0; q < BC; ++q) {
#pragma GCC unroll 8
    for (int j = 0; j < J; ++j) {
#pragma GCC unroll 8
      for (int u = 1; u < P; ++u) acc[0][q][j] = _mm256_add_ps(acc[0][q][j], acc[u][q][j]);
    }
    StoreRowAvx2<J, kTail>(c0 + q * c.ld, tail, acc[0][q]);
  }
}

// The columns [t0, t1) left after the full tiles: `vectors` (1 .. JMax), the last holding `left` (1 .. 8) floats.
template <int BR, int BC, int JMax>
ENGINE_TARGET_AVX2 void SpmmBsrTRemainderAvx2(const BsrView& a, ConstDenseView b, DenseView c, int64_t jb, int64_t t0,
                                              bool accumulate, int64_t vectors, int64_t left) {
  if constexpr (JMax >= 1) {
    constexpr int P = BsrPartialSets<BR, BC, JMax>();
    if (vectors != JMax) {
      SpmmBsrTRemainderAvx2<BR, BC, JMax - 1>(a, b, c, jb, t0, accumulate, vectors, left);
    } else if (left == 8) {
      SpmmBsrTTileAvx2<BR, BC, JMax, P, false>(a, b, c, jb, t0, __m256i{}, accumulate);
    } else {
      SpmmBsrTTileAvx2<BR, BC, JMax, P, true>(a, b, c, jb, t0, Avx2Mask(left), accumulate);
    }
  }
}

// Columns [t0, t1) of full output block row jb: tiles of J vectors (J * BC = 8 accumulators), then the rest.
template <int BR, int BC>
ENGINE_TARGET_AVX2 void SpmmBsrTChunkAvx2(const BsrView& a, ConstDenseView b, DenseView c, int64_t jb, int64_t t0,
                                          int64_t t1, bool accumulate) {
  constexpr int J = 8 / BC;
  int64_t t = t0;
  for (; t + 8 * J <= t1; t += 8 * J) {
    SpmmBsrTTileAvx2<BR, BC, J, BsrPartialSets<BR, BC, J>(), false>(a, b, c, jb, t, __m256i{}, accumulate);
  }
  if (t < t1) {
    const int64_t vectors = (t1 - t + 7) / 8;
    SpmmBsrTRemainderAvx2<BR, BC, J>(a, b, c, jb, t, accumulate, vectors, t1 - t - 8 * (vectors - 1));
  }
}

// ============================== SddmmBsr ==============================

// One step of 8 columns at t of the 8 accumulators of SddmmBsrBlocksAvx2: accumulator (u * R + r) * C + q gathers
// G row r times X row q of block u.
template <int R, int C, int NB, bool kMasked>
ENGINE_TARGET_AVX2 inline void SddmmBsrStepAvx2(__m256 acc[8], const float* g0, int64_t ldg, const float* const x0[NB],
                                                int64_t ldx, int64_t t, __m256i mask) {
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    const __m256 gv = LoadAvx2<kMasked>(g0 + r * ldg + t, mask);
#pragma GCC unroll 8
    for (int u = 0; u < NB; ++u) {
#pragma GCC unroll 8
      for (int q = 0; q < C; ++q) {
        const __m256 xv = LoadAvx2<kMasked>(x0[u] + q * ldx + t, mask);
        acc[(u * R + r) * C + q] = _mm256_fmadd_ps(gv, xv, acc[(u * R + r) * C + q]);
      }
    }
  }
}

// NB consecutive full blocks p .. p + NB - 1 of block row ib (blocks BR x C), R rows of them at a time (R < BR only
// with NB = 1): exactly 8 vector accumulators over n, reduced together (ReduceEight) into 8 outputs, which are
// contiguous in out (blocks p .. p + NB - 1, or rows r0 .. r0 + R - 1 of block p), so each group is one store.
// The next group's X rows (16 floats = one cache line per prefetch) are prefetched first.
template <int BR, int R, int C, int NB>
ENGINE_TARGET_AVX2 void SddmmBsrBlocksAvx2(const BsrView& pat, ConstDenseView g, ConstDenseView x, int64_t ib,
                                           int64_t p, bool accumulate, float* out) {
  static_assert(NB * R * C == 8 && BR % R == 0 && (R == BR || NB == 1), "8 contiguous outputs per group");
  const int64_t n = g.cols;
  const float* x0[NB];
#pragma GCC unroll 8
  for (int u = 0; u < NB; ++u) x0[u] = x.data + int64_t{pat.block_col_indices[p + u]} * C * x.ld;
  const int64_t ahead = p + kBsrSddmmPrefetchGroups * NB;
  if (ahead + NB <= pat.block_row_offsets[ib + 1]) {
#pragma GCC unroll 8
    for (int u = 0; u < NB; ++u) {
      const float* xp = x.data + int64_t{pat.block_col_indices[ahead + u]} * C * x.ld;
#pragma GCC unroll 8
      for (int q = 0; q < C; ++q) {
        for (int64_t t = 0; t < n; t += 16) _mm_prefetch(reinterpret_cast<const char*>(xp + q * x.ld + t), _MM_HINT_T0);
      }
    }
  }
  for (int r0 = 0; r0 < BR; r0 += R) {
    const float* g0 = g.data + (ib * BR + r0) * g.ld;
    __m256 acc[8];
#pragma GCC unroll 8
    for (int s = 0; s < 8; ++s) acc[s] = _mm256_setzero_ps();
    int64_t t = 0;
    for (; t + 8 <= n; t += 8) SddmmBsrStepAvx2<R, C, NB, false>(acc, g0, g.ld, x0, x.ld, t, __m256i{});
    if (t < n) SddmmBsrStepAvx2<R, C, NB, true>(acc, g0, g.ld, x0, x.ld, t, Avx2Mask(n - t));
    float* o = out + p * BR * C + r0 * C;
    __m256 sums = ReduceEight(acc);
    if (accumulate) sums = _mm256_add_ps(_mm256_loadu_ps(o), sums);
    _mm256_storeu_ps(o, sums);
  }
}

// ============================== kernel tables ==============================
// The AVX2 kernel for a block shape, or nullptr (the portable loops), for bsr_spmm.cc's drivers.

using BsrSpmmRowFn = void (*)(const BsrView&, ConstDenseView, DenseView, int64_t, bool, const float*, bool);
using BsrSpmmTChunkFn = void (*)(const BsrView&, ConstDenseView, DenseView, int64_t, int64_t, int64_t, bool);
using BsrSddmmBlocksFn = void (*)(const BsrView&, ConstDenseView, ConstDenseView, int64_t, int64_t, bool, float*);

// An SDDMM kernel and how many consecutive blocks of a block row it takes at once.
struct BsrSddmmKernel {
  BsrSddmmBlocksFn fn = nullptr;
  int64_t blocks = 1;
};

// SpmmBsr's block-row kernel for br-row blocks (BC: block_cols, 0 = any). 16 ymm registers hold R * J accumulators
// + J loaded vectors + 1 broadcast; 8-row blocks run as two 4-row halves (per 8 FMAs 2 loads and 4 broadcasts
// instead of 1 load and 8 broadcasts: measured 1.1-1.2x over R = 8, J = 1).
template <int BC>
BsrSpmmRowFn PickSpmmBsrAvx2ByRows(int64_t br) {
  switch (br) {
    case 1: return &SpmmBsrBlockRowAvx2<1, 1, BC, 8>;
    case 2: return &SpmmBsrBlockRowAvx2<2, 2, BC, 4>;
    case 4: return &SpmmBsrBlockRowAvx2<4, 4, BC, 2>;
    case 8: return &SpmmBsrBlockRowAvx2<8, 4, BC, 2>;
    default: return nullptr;
  }
}

// SpmmBsrTransposed's chunk kernel for BR-row, bc-column blocks.
template <int BR>
BsrSpmmTChunkFn PickSpmmBsrTAvx2ByCols(int64_t bc) {
  switch (bc) {
    case 1: return &SpmmBsrTChunkAvx2<BR, 1>;
    case 2: return &SpmmBsrTChunkAvx2<BR, 2>;
    case 4: return &SpmmBsrTChunkAvx2<BR, 4>;
    default: return nullptr;
  }
}

// SddmmBsr's kernel, for the AVX-512 path's shapes: each group is 8 accumulators (NB blocks x R rows x C columns),
// a 4x4 block two groups of 2 rows.
inline BsrSddmmKernel PickSddmmBsrAvx2(const BsrView& pat) {
  const int64_t br = pat.block_rows, bc = pat.block_cols;
  if (br == 1 && bc == 1) return {&SddmmBsrBlocksAvx2<1, 1, 1, 8>, 8};
  if (br == 2 && bc == 1) return {&SddmmBsrBlocksAvx2<2, 2, 1, 4>, 4};
  if (br == 4 && bc == 1) return {&SddmmBsrBlocksAvx2<4, 4, 1, 2>, 2};
  if (br == 8 && bc == 1) return {&SddmmBsrBlocksAvx2<8, 8, 1, 1>, 1};
  if (br == 1 && bc == 4) return {&SddmmBsrBlocksAvx2<1, 1, 4, 2>, 2};
  if (br == 1 && bc == 8) return {&SddmmBsrBlocksAvx2<1, 1, 8, 1>, 1};
  if (br == 2 && bc == 2) return {&SddmmBsrBlocksAvx2<2, 2, 2, 2>, 2};
  if (br == 4 && bc == 4) return {&SddmmBsrBlocksAvx2<4, 2, 4, 1>, 1};
  return {};
}

// The slab walk of SpmmBsr (AVX2, 4- and 8-row blocks). The row walk (SpmmBsr's driver, SpmmBsrBlockRowAvx2 on each
// block row) streams, for every block row, the rows of B its blocks name; once B outgrows the L2 (B is 2 MiB at
// 4096 x 128; Zen 3 has 512 KiB of L2 per core) they come from the L3 again for each block row. When every row of B
// is read by many block rows, the slab walk instead packs a 16-column slab of B (k x 16 floats, 256 KiB at
// k = 4096) into the thread's L2 buffer (spmm_tile.h) and runs a chunk of block rows over it. Work items are (slab,
// nnz-balanced chunk of block rows). Each output element gets the same sum in the same order as in the row walk, so
// the two walks agree bit for bit.
using BsrSpmmSlabFn = void (*)(const BsrView&, const float*, int64_t, DenseView, int64_t, int64_t, int64_t, bool,
                               const float*, bool);

// The slab kernel, when the slab walk pays: B larger than the pack buffer (a stand-in for the L2), its slab fitting
// it, and each row of B read by at least kSlabReuse block rows on average (nnz_blocks * block_cols / k). Measured on
// a Zen 3 (2 threads, 4096 x 4096, n = 128) against the row walk: 1.15-1.85x at densities 0.2-0.5 (4x4 also at 0.1,
// 4x1 there about even); at 0.05 and below (reuse <= 51) packing costs more than it saves for 4x1 and 8x1
// (0.65-0.85x).
constexpr int64_t kSlabReuse = 64;
template <int BR>
BsrSpmmSlabFn SpmmBsrSlabKernelAvx2(int64_t bc) {
  return bc == 1   ? &SpmmBsrSlabColumnsAvx2<BR, 1>
         : bc == 4 ? &SpmmBsrSlabColumnsAvx2<BR, 4>
                   : &SpmmBsrSlabColumnsAvx2<BR, 0>;
}
inline BsrSpmmSlabFn PickSpmmBsrSlabsAvx2(const BsrView& a, ConstDenseView b) {
  const int64_t k = b.rows;
  if (b.cols <= kBsrSlabWidth || k * b.cols <= kPackFloats || k * kBsrSlabWidth > kPackFloats) return nullptr;
  if (a.nnz_blocks * a.block_cols < kSlabReuse * k) return nullptr;
  if (a.block_rows == 4) return SpmmBsrSlabKernelAvx2<4>(a.block_cols);
  if (a.block_rows == 8) return SpmmBsrSlabKernelAvx2<8>(a.block_cols);
  return nullptr;
}

// Block rows [0, a.rows / a.block_rows) (the full ones) of C by the slab walk with fn (from PickSpmmBsrSlabsAvx2).
inline void SpmmBsrSlabWalkAvx2(const BsrView& a, ConstDenseView b, DenseView c, BsrSpmmSlabFn fn, bool accumulate,
                                const float* bias, bool relu) {
  const int64_t n = b.cols, width = kBsrSlabWidth;
  const int64_t tiles = (n + width - 1) / width, chunks = omp_get_max_threads();
  const int64_t full_rows = a.rows / a.block_rows;  // block rows [0, full_rows) are full
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t item = 0; item < tiles * chunks; ++item) {
    const int64_t tile = item / chunks, chunk = item % chunks;
    const int64_t t0 = tile * width, t1 = std::min(n, t0 + width);
    const float* slab = PackSlab(b.data, b.ld, b.rows, t0, t1 - t0);
    const int64_t ib_end = ChunkBegin(a.block_row_offsets, full_rows, chunk + 1, chunks);
    for (int64_t ib = ChunkBegin(a.block_row_offsets, full_rows, chunk, chunks); ib < ib_end; ++ib) {
      fn(a, slab, t1 - t0, c, ib, t0, t1, accumulate, bias, relu);
    }
  }
}

}  // namespace engine::kernels::internal

#endif  // ENGINE_KERNELS_BSR_AVX2_TILES_H_
