// BSR kernels (see bsr_spmm.h). Each driver runs one OpenMP loop over output block rows; a block row is computed
// by an AVX-512 or AVX2 register-tile kernel (full block rows of a supported shape; the AVX2 tiles are in
// bsr_avx2_tiles.h) or by the portable loops (everything else: other shapes, the clipped last block row, CPUs
// without AVX2).
#include "engine/kernels/bsr_spmm.h"

#include <algorithm>

#include "engine/base/check.h"
#include "engine/base/cpu.h"
#include "engine/base/flop_counter.h"
#include "engine/kernels/bsr_avx2_tiles.h"
#include "engine/kernels/isa_target.h"

namespace engine::kernels {
namespace {

constexpr int64_t kLanes = 16;  // floats per zmm register

using internal::BsrColsIn;
using internal::BsrRowsIn;

void CountFlops(const BsrView& a, int64_t n, int64_t output_rows, const float* bias, bool relu) {
  FlopCounter::Add(2.0 * static_cast<double>(a.entries) * static_cast<double>(n) +
                   ((bias != nullptr ? 1.0 : 0.0) + (relu ? 1.0 : 0.0)) * static_cast<double>(output_rows * n));
}

// ============================== SpmmBsr ==============================

// Block row ib of C, portable: C rows = init + sum over blocks of the block times the matching rows of B.
void SpmmBlockRowPortable(const BsrView& a, ConstDenseView b, DenseView c, int64_t ib, bool accumulate,
                          const float* bias, bool relu) {
  const int64_t n = b.cols, br = a.block_rows, bc = a.block_cols, bs = br * bc;
  const int64_t r0 = ib * br, rows_in = BsrRowsIn(a, ib);
  if (!accumulate) {
    for (int64_t r = 0; r < rows_in; ++r) {
      std::fill(c.row(r0 + r), c.row(r0 + r) + n, bias != nullptr ? bias[r0 + r] : 0.0f);
    }
  }
  for (int64_t p = a.block_row_offsets[ib]; p < a.block_row_offsets[ib + 1]; ++p) {
    const int64_t jb = a.block_col_indices[p];
    const int64_t cols_in = BsrColsIn(a, jb);
    const float* v = a.values + p * bs;
    for (int64_t r = 0; r < rows_in; ++r) {
      float* c_row = c.row(r0 + r);
      for (int64_t q = 0; q < cols_in; ++q) {
        const float a_rq = v[r * bc + q];
        const float* b_row = b.row(jb * bc + q);
        for (int64_t t = 0; t < n; ++t) c_row[t] += a_rq * b_row[t];
      }
    }
  }
  if (relu) {
    for (int64_t r = 0; r < rows_in; ++r) {
      float* c_row = c.row(r0 + r);
      for (int64_t t = 0; t < n; ++t) c_row[t] = std::max(c_row[t], 0.0f);
    }
  }
}

// R rows x J vectors of C (columns [t0, t0 + 16 J), the last vector masked by `tail`) for full block row ib.
// The R x J accumulators stay in registers across all blocks of the row; each loaded vector of B feeds R FMAs.
// BC is the block width when known at compile time (0: read a.block_cols).
template <int R, int BC, int J>
ENGINE_TARGET_AVX512 void SpmmTileAvx512(const BsrView& a, ConstDenseView b, DenseView c, int64_t ib, int64_t t0,
                                         __mmask16 tail, bool accumulate, const float* bias, bool relu) {
  const int64_t bc = BC > 0 ? BC : a.block_cols;
  const int64_t bs = R * bc;
  const int64_t last_jb = a.col_blocks - 1, last_cols = a.cols - last_jb * bc;
  float* c0 = c.data + ib * R * c.ld + t0;
  __m512 acc[R][J];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    const __m512 init = _mm512_set1_ps(bias != nullptr ? bias[ib * R + r] : 0.0f);
#pragma GCC unroll 8
    for (int j = 0; j < J; ++j) {
      const __mmask16 mask = j == J - 1 ? tail : __mmask16(0xFFFF);
      acc[r][j] = accumulate ? _mm512_maskz_loadu_ps(mask, c0 + r * c.ld + j * kLanes) : init;
    }
  }
  const int64_t p_end = a.block_row_offsets[ib + 1];
  for (int64_t p = a.block_row_offsets[ib]; p < p_end; ++p) {
    const int64_t jb = a.block_col_indices[p];
    const int64_t cols_in = jb == last_jb ? last_cols : bc;
    const float* v = a.values + p * bs;
    const float* b0 = b.data + jb * bc * b.ld + t0;
    for (int64_t q = 0; q < cols_in; ++q) {
      __m512 bv[J];
#pragma GCC unroll 8
      for (int j = 0; j < J; ++j) {
        const __mmask16 mask = j == J - 1 ? tail : __mmask16(0xFFFF);
        bv[j] = _mm512_maskz_loadu_ps(mask, b0 + q * b.ld + j * kLanes);
      }
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m512 av = _mm512_set1_ps(v[r * bc + q]);
#pragma GCC unroll 8
        for (int j = 0; j < J; ++j) acc[r][j] = _mm512_fmadd_ps(av, bv[j], acc[r][j]);
      }
    }
  }
  const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int j = 0; j < J; ++j) {
      const __mmask16 mask = j == J - 1 ? tail : __mmask16(0xFFFF);
      const __m512 out = relu ? _mm512_maskz_max_ps(__mmask16(0xFFFF), acc[r][j], zero) : acc[r][j];
      _mm512_mask_storeu_ps(c0 + r * c.ld + j * kLanes, mask, out);
    }
  }
}

// A tile of exactly `vectors` (1 .. JMax) vectors.
template <int R, int BC, int JMax>
ENGINE_TARGET_AVX512 void SpmmRemainderAvx512(const BsrView& a, ConstDenseView b, DenseView c, int64_t ib, int64_t t0,
                                              __mmask16 tail, bool accumulate, const float* bias, bool relu,
                                              int64_t vectors) {
  if constexpr (JMax >= 1) {
    if (vectors == JMax) {
      SpmmTileAvx512<R, BC, JMax>(a, b, c, ib, t0, tail, accumulate, bias, relu);
    } else {
      SpmmRemainderAvx512<R, BC, JMax - 1>(a, b, c, ib, t0, tail, accumulate, bias, relu, vectors);
    }
  }
}

// Full block row ib: tiles of J vectors across n, then one narrower tile for the rest (last vector masked).
template <int R, int BC, int J>
ENGINE_TARGET_AVX512 void SpmmBlockRowAvx512(const BsrView& a, ConstDenseView b, DenseView c, int64_t ib,
                                             bool accumulate, const float* bias, bool relu) {
  const int64_t n = b.cols;
  int64_t t0 = 0;
  for (; t0 + J * kLanes <= n; t0 += J * kLanes) {
    SpmmTileAvx512<R, BC, J>(a, b, c, ib, t0, 0xFFFF, accumulate, bias, relu);
  }
  if (t0 < n) {  // the last 1 .. J vectors (fewer than J * 16 floats), the last one masked
    const int64_t vectors = (n - t0 + kLanes - 1) / kLanes;
    const int64_t left = n - t0 - (vectors - 1) * kLanes;
    const __mmask16 tail = static_cast<__mmask16>((1u << left) - 1u);
    SpmmRemainderAvx512<R, BC, J>(a, b, c, ib, t0, tail, accumulate, bias, relu, vectors);
  }
}

using SpmmBlockRowFn = internal::BsrSpmmRowFn;

// The AVX-512 block-row kernel for this block shape, or nullptr when there is none. J (vectors per tile) keeps
// R * J accumulators + J loaded vectors + 1 broadcast within the 32 zmm registers.
template <int BC>
SpmmBlockRowFn PickSpmmAvx512ByRows(int64_t br) {
  switch (br) {
    case 1: return &SpmmBlockRowAvx512<1, BC, 8>;
    case 2: return &SpmmBlockRowAvx512<2, BC, 8>;
    case 4: return &SpmmBlockRowAvx512<4, BC, 4>;
    case 8: return &SpmmBlockRowAvx512<8, BC, 3>;
    default: return nullptr;
  }
}

// The register-tile block-row kernel for the active ISA and this block shape, or nullptr (portable loops).
SpmmBlockRowFn PickSpmm(const BsrView& a) {
  const Isa isa = ActiveIsa();
  if (isa == Isa::kPortable) return nullptr;
  const bool avx2 = isa == Isa::kAvx2;
  switch (a.block_cols) {
    case 1: return avx2 ? internal::PickSpmmBsrAvx2ByRows<1>(a.block_rows) : PickSpmmAvx512ByRows<1>(a.block_rows);
    case 4: return avx2 ? internal::PickSpmmBsrAvx2ByRows<4>(a.block_rows) : PickSpmmAvx512ByRows<4>(a.block_rows);
    default: return avx2 ? internal::PickSpmmBsrAvx2ByRows<0>(a.block_rows) : PickSpmmAvx512ByRows<0>(a.block_rows);
  }
}

void SpmmDriver(const BsrView& a, ConstDenseView b, DenseView c, bool accumulate, const float* bias, bool relu) {
  ENGINE_DCHECK(a.cols == b.rows && a.rows == c.rows && b.cols == c.cols);
  const SpmmBlockRowFn fast = PickSpmm(a);
  const internal::BsrSpmmSlabFn slabs = ActiveIsa() == Isa::kAvx2 ? internal::PickSpmmBsrSlabsAvx2(a, b) : nullptr;
  const int64_t row_blocks = a.row_blocks;
  if (slabs != nullptr) {  // AVX2, B beyond the L2 and each of its rows read often: slabs, then the clipped row
    internal::SpmmBsrSlabWalkAvx2(a, b, c, slabs, accumulate, bias, relu);
    const int64_t full_rows = a.rows / a.block_rows;
    if (full_rows < row_blocks) SpmmBlockRowPortable(a, b, c, full_rows, accumulate, bias, relu);
  } else {
#pragma omp parallel for schedule(dynamic, 4)
    for (int64_t ib = 0; ib < row_blocks; ++ib) {
      if (fast != nullptr && BsrRowsIn(a, ib) == a.block_rows) {
        fast(a, b, c, ib, accumulate, bias, relu);
      } else {
        SpmmBlockRowPortable(a, b, c, ib, accumulate, bias, relu);
      }
    }
  }
  CountFlops(a, b.cols, a.rows, bias, relu);
}

// ============================== SpmmBsrTransposed ==============================
// Each block of A sends block_rows rows of B to one block row of C. The driver runs over (column chunk, output
// block row) pairs; a chunk is kTChunk = 128 floats, so for the usual n <= 128 each block is visited once
// (narrower chunks, meant to keep a slice of B in L2, measured 1.5-2x slower: the per-block index and value
// reads, not B, dominate). Values are reached through t_block_positions, i.e. at random, so they are prefetched
// kBsrValuesPrefetch blocks ahead (measured 1.2-2x faster).

constexpr int kTChunkVectors = 8;
constexpr int64_t kTChunk = kTChunkVectors * kLanes;
using internal::kBsrValuesPrefetch;

// Output block row jb of C (rows jb * bc + q), columns [t0, t1): sum over the blocks of block column jb of A of
// blockᵀ times the matching rows of B, walking the transposed block index (block rows ascending). Portable.
void SpmmTChunkPortable(const BsrView& a, ConstDenseView b, DenseView c, int64_t jb, int64_t t0, int64_t t1,
                        bool accumulate) {
  const int64_t br = a.block_rows, bc = a.block_cols, bs = br * bc;
  const int64_t cols_in = BsrColsIn(a, jb);
  if (!accumulate) {
    for (int64_t q = 0; q < cols_in; ++q) std::fill(c.row(jb * bc + q) + t0, c.row(jb * bc + q) + t1, 0.0f);
  }
  for (int64_t s = a.t_block_col_offsets[jb]; s < a.t_block_col_offsets[jb + 1]; ++s) {
    const int64_t ib = a.t_block_rows[s];
    const int64_t rows_in = BsrRowsIn(a, ib);
    const float* v = a.values + a.t_block_positions[s] * bs;
    for (int64_t q = 0; q < cols_in; ++q) {
      float* c_row = c.row(jb * bc + q);
      for (int64_t r = 0; r < rows_in; ++r) {
        const float a_rq = v[r * bc + q];
        const float* b_row = b.row(ib * br + r);
        for (int64_t t = t0; t < t1; ++t) c_row[t] += a_rq * b_row[t];
      }
    }
  }
}

// BC rows x J vectors of C at columns [t0, t0 + 16 J) (last vector masked by `tail`) for full output block row
// jb, with block_rows = BR. With few accumulators (BC * J < 8) one FMA chain per register would stall on FMA
// latency, so P partial sums are kept (internal::BsrPartialSets) and added in a fixed order at the end.
template <int BR, int BC, int J, int P>
ENGINE_TARGET_AVX512 void SpmmTTileAvx512(const BsrView& a, ConstDenseView b, DenseView c, int64_t jb, int64_t t0,
                                          __mmask16 tail, bool accumulate) {
  constexpr int64_t bs = BR * BC;
  float* c0 = c.data + jb * BC * c.ld + t0;
  __m512 acc[P][BC][J];
#pragma GCC unroll 8
  for (int u = 0; u < P; ++u) {
#pragma GCC unroll 8
    for (int q = 0; q < BC; ++q) {
#pragma GCC unroll 8
      for (int j = 0; j < J; ++j) {
        const __mmask16 mask = j == J - 1 ? tail : __mmask16(0xFFFF);
        acc[u][q][j] = (accumulate && u == 0) ? _mm512_maskz_loadu_ps(mask, c0 + q * c.ld + j * kLanes)
                                              : _mm512_setzero_ps();
      }
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
    if (BsrRowsIn(a, ib) == BR) {
#pragma GCC unroll 8
      for (int r = 0; r < BR; ++r) {
        __m512 bv[J];
#pragma GCC unroll 8
        for (int j = 0; j < J; ++j) {
          const __mmask16 mask = j == J - 1 ? tail : __mmask16(0xFFFF);
          bv[j] = _mm512_maskz_loadu_ps(mask, b0 + r * b.ld + j * kLanes);
        }
#pragma GCC unroll 8
        for (int q = 0; q < BC; ++q) {
          const __m512 av = _mm512_set1_ps(v[r * BC + q]);
#pragma GCC unroll 8
          for (int j = 0; j < J; ++j) acc[r % P][q][j] = _mm512_fmadd_ps(av, bv[j], acc[r % P][q][j]);
        }
      }
    } else {  // the clipped last block row of A: only its rows inside the matrix exist in B
      for (int64_t r = 0; r < BsrRowsIn(a, ib); ++r) {
        __m512 bv[J];
#pragma GCC unroll 8
        for (int j = 0; j < J; ++j) {
          const __mmask16 mask = j == J - 1 ? tail : __mmask16(0xFFFF);
          bv[j] = _mm512_maskz_loadu_ps(mask, b0 + r * b.ld + j * kLanes);
        }
#pragma GCC unroll 8
        for (int q = 0; q < BC; ++q) {
          const __m512 av = _mm512_set1_ps(v[r * BC + q]);
#pragma GCC unroll 8
          for (int j = 0; j < J; ++j) acc[0][q][j] = _mm512_fmadd_ps(av, bv[j], acc[0][q][j]);
        }
      }
    }
  }
#pragma GCC unroll 8
  for (int q = 0; q < BC; ++q) {
#pragma GCC unroll 8
    for (int j = 0; j < J; ++j) {
      __m512 sum = acc[0][q][j];
#pragma GCC unroll 8
      for (int u = 1; u < P; ++u) sum = _mm512_add_ps(sum, acc[u][q][j]);
      const __mmask16 mask = j == J - 1 ? tail : __mmask16(0xFFFF);
      _mm512_mask_storeu_ps(c0 + q * c.ld + j * kLanes, mask, sum);
    }
  }
}

// A tile of exactly `vectors` (1 .. JMax) vectors.
template <int BR, int BC, int JMax>
ENGINE_TARGET_AVX512 void SpmmTRemainderAvx512(const BsrView& a, ConstDenseView b, DenseView c, int64_t jb, int64_t t0,
                                               __mmask16 tail, bool accumulate, int64_t vectors) {
  if constexpr (JMax >= 1) {
    if (vectors == JMax) {
      SpmmTTileAvx512<BR, BC, JMax, internal::BsrPartialSets<BR, BC, JMax>()>(a, b, c, jb, t0, tail, accumulate);
    } else {
      SpmmTRemainderAvx512<BR, BC, JMax - 1>(a, b, c, jb, t0, tail, accumulate, vectors);
    }
  }
}

// Columns [t0, t1) of output block row jb (t1 - t0 <= kTChunk): one tile of as many vectors as needed.
template <int BR, int BC>
ENGINE_TARGET_AVX512 void SpmmTChunkAvx512(const BsrView& a, ConstDenseView b, DenseView c, int64_t jb, int64_t t0,
                                           int64_t t1, bool accumulate) {
  const int64_t vectors = (t1 - t0 + kLanes - 1) / kLanes;
  const int64_t left = t1 - t0 - (vectors - 1) * kLanes;
  const __mmask16 tail = static_cast<__mmask16>((1u << left) - 1u);
  SpmmTRemainderAvx512<BR, BC, kTChunkVectors>(a, b, c, jb, t0, tail, accumulate, vectors);
}

using SpmmTChunkFn = internal::BsrSpmmTChunkFn;

template <int BR>
SpmmTChunkFn PickSpmmTAvx512ByCols(int64_t bc) {
  switch (bc) {
    case 1: return &SpmmTChunkAvx512<BR, 1>;
    case 2: return &SpmmTChunkAvx512<BR, 2>;
    case 4: return &SpmmTChunkAvx512<BR, 4>;
    default: return nullptr;
  }
}

// The register-tile chunk kernel for the active ISA and this block shape, or nullptr (portable loops).
template <int BR>
SpmmTChunkFn PickSpmmTByCols(Isa isa, int64_t bc) {
  return isa == Isa::kAvx2 ? internal::PickSpmmBsrTAvx2ByCols<BR>(bc) : PickSpmmTAvx512ByCols<BR>(bc);
}

SpmmTChunkFn PickSpmmT(const BsrView& a) {
  const Isa isa = ActiveIsa();
  if (isa == Isa::kPortable) return nullptr;
  switch (a.block_rows) {
    case 1: return PickSpmmTByCols<1>(isa, a.block_cols);
    case 2: return PickSpmmTByCols<2>(isa, a.block_cols);
    case 4: return PickSpmmTByCols<4>(isa, a.block_cols);
    case 8: return PickSpmmTByCols<8>(isa, a.block_cols);
    default: return nullptr;
  }
}

void SpmmTDriver(const BsrView& a, ConstDenseView b, DenseView c, bool accumulate) {
  ENGINE_DCHECK(a.rows == b.rows && a.cols == c.rows && b.cols == c.cols);
  ENGINE_DCHECK(a.nnz_blocks == 0 || a.t_block_col_offsets != nullptr);
  const SpmmTChunkFn fast = PickSpmmT(a);
  const int64_t n = b.cols, col_blocks = a.col_blocks;
  const int64_t chunks = (n + kTChunk - 1) / kTChunk;
  // Work item w = (chunk w / col_blocks, output block row w % col_blocks); each writes its own part of C.
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t w = 0; w < chunks * col_blocks; ++w) {
    const int64_t jb = w % col_blocks, t0 = (w / col_blocks) * kTChunk, t1 = std::min(n, t0 + kTChunk);
    if (a.t_block_col_offsets == nullptr) {  // no stored blocks and no index: C = 0 (or unchanged)
      if (!accumulate) {
        for (int64_t q = 0; q < BsrColsIn(a, jb); ++q) {
          std::fill(c.row(jb * a.block_cols + q) + t0, c.row(jb * a.block_cols + q) + t1, 0.0f);
        }
      }
    } else if (fast != nullptr && BsrColsIn(a, jb) == a.block_cols) {
      fast(a, b, c, jb, t0, t1, accumulate);
    } else {
      SpmmTChunkPortable(a, b, c, jb, t0, t1, accumulate);
    }
  }
  CountFlops(a, n, 0, nullptr, false);
}

// ============================== SddmmBsr ==============================

// Block p at (ib, jb), portable: out block [r, q] (+)= <G row ib * br + r, X row jb * bc + q>.
void SddmmBlockPortable(const BsrView& pat, ConstDenseView g, ConstDenseView x, int64_t ib, int64_t p,
                        bool accumulate, float* out) {
  const int64_t n = g.cols, br = pat.block_rows, bc = pat.block_cols;
  const int64_t jb = pat.block_col_indices[p];
  const int64_t rows_in = BsrRowsIn(pat, ib), cols_in = BsrColsIn(pat, jb);
  float* o = out + p * br * bc;
  for (int64_t r = 0; r < br; ++r) {
    for (int64_t q = 0; q < bc; ++q) {
      if (r >= rows_in || q >= cols_in) {
        if (!accumulate) o[r * bc + q] = 0.0f;  // padding
        continue;
      }
      const float* g_row = g.row(ib * br + r);
      const float* x_row = x.row(jb * bc + q);
      float sum = 0.0f;
      for (int64_t t = 0; t < n; ++t) sum += g_row[t] * x_row[t];
      o[r * bc + q] = accumulate ? o[r * bc + q] + sum : sum;
    }
  }
}

// Sum of the 16 lanes in a fixed order (masked extracts: GCC 12's unmasked ones trip -Wuninitialized).
ENGINE_TARGET_AVX512 inline float HorizontalSum(__m512 v) {
  const __m256 lo = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xF, _mm512_castps_pd(v), 0));
  const __m256 hi = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xF, _mm512_castps_pd(v), 1));
  const __m256 s8 = _mm256_add_ps(lo, hi);
  __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
  s4 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  s4 = _mm_add_ss(s4, _mm_movehdup_ps(s4));
  return _mm_cvtss_f32(s4);
}

// NB consecutive full blocks p .. p + NB - 1 of block row ib, each R x C: R * C * NB vector accumulators over n
// (the R rows of G are loaded once for all NB blocks), one horizontal sum each at the end.
template <int R, int C, int NB>
ENGINE_TARGET_AVX512 void SddmmBlocksAvx512(const BsrView& pat, ConstDenseView g, ConstDenseView x, int64_t ib,
                                            int64_t p, bool accumulate, float* out) {
  const int64_t n = g.cols;
  const float* g0 = g.data + ib * R * g.ld;
  const float* x0[NB];
#pragma GCC unroll 8
  for (int u = 0; u < NB; ++u) x0[u] = x.data + int64_t{pat.block_col_indices[p + u]} * C * x.ld;
  __m512 acc[NB][R][C];
#pragma GCC unroll 8
  for (int u = 0; u < NB; ++u) {
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
      for (int q = 0; q < C; ++q) acc[u][r][q] = _mm512_setzero_ps();
    }
  }
  for (int64_t t = 0; t < n; t += kLanes) {
    const __mmask16 mask = n - t >= kLanes ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << (n - t)) - 1u);
    __m512 xv[NB][C];
#pragma GCC unroll 8
    for (int u = 0; u < NB; ++u) {
#pragma GCC unroll 8
      for (int q = 0; q < C; ++q) xv[u][q] = _mm512_maskz_loadu_ps(mask, x0[u] + q * x.ld + t);
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 gv = _mm512_maskz_loadu_ps(mask, g0 + r * g.ld + t);
#pragma GCC unroll 8
      for (int u = 0; u < NB; ++u) {
#pragma GCC unroll 8
        for (int q = 0; q < C; ++q) acc[u][r][q] = _mm512_fmadd_ps(gv, xv[u][q], acc[u][r][q]);
      }
    }
  }
#pragma GCC unroll 8
  for (int u = 0; u < NB; ++u) {
    float* o = out + (p + u) * R * C;
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
      for (int q = 0; q < C; ++q) {
        const float sum = HorizontalSum(acc[u][r][q]);
        o[r * C + q] = accumulate ? o[r * C + q] + sum : sum;
      }
    }
  }
}

// The AVX-512 kernel for this block shape and how many blocks it takes at once (narrow blocks share G's rows
// across several blocks so each loaded vector feeds more FMAs).
using SddmmFast = internal::BsrSddmmKernel;

SddmmFast PickSddmmAvx512(const BsrView& pat) {
  const int64_t br = pat.block_rows, bc = pat.block_cols;
  if (br == 1 && bc == 1) return {&SddmmBlocksAvx512<1, 1, 4>, 4};
  if (br == 2 && bc == 1) return {&SddmmBlocksAvx512<2, 1, 4>, 4};
  if (br == 4 && bc == 1) return {&SddmmBlocksAvx512<4, 1, 2>, 2};
  if (br == 8 && bc == 1) return {&SddmmBlocksAvx512<8, 1, 2>, 2};
  if (br == 1 && bc == 4) return {&SddmmBlocksAvx512<1, 4, 2>, 2};
  if (br == 1 && bc == 8) return {&SddmmBlocksAvx512<1, 8, 1>, 1};
  if (br == 2 && bc == 2) return {&SddmmBlocksAvx512<2, 2, 2>, 2};
  if (br == 4 && bc == 4) return {&SddmmBlocksAvx512<4, 4, 1>, 1};
  return {};
}

SddmmFast PickSddmm(const BsrView& pat) {
  switch (ActiveIsa()) {
    case Isa::kAvx512: return PickSddmmAvx512(pat);
    case Isa::kAvx2: return internal::PickSddmmBsrAvx2(pat);
    default: return {};
  }
}

void SddmmDriver(const BsrView& pat, ConstDenseView g, ConstDenseView x, float* out, bool accumulate) {
  ENGINE_DCHECK(g.rows == pat.rows && x.rows == pat.cols && g.cols == x.cols);
  const SddmmFast fast = PickSddmm(pat);
  const int64_t row_blocks = pat.row_blocks;
#pragma omp parallel for schedule(dynamic, 4)
  for (int64_t ib = 0; ib < row_blocks; ++ib) {
    const bool full_rows = BsrRowsIn(pat, ib) == pat.block_rows;
    const int64_t p_end = pat.block_row_offsets[ib + 1];
    int64_t p = pat.block_row_offsets[ib];
    // Groups of fast.blocks full blocks (block columns ascend, so only a group's last block can be clipped).
    if (fast.fn != nullptr && full_rows) {
      for (; p + fast.blocks <= p_end; p += fast.blocks) {
        if (BsrColsIn(pat, pat.block_col_indices[p + fast.blocks - 1]) != pat.block_cols) break;
        fast.fn(pat, g, x, ib, p, accumulate, out);
      }
    }
    for (; p < p_end; ++p) SddmmBlockPortable(pat, g, x, ib, p, accumulate, out);
  }
  CountFlops(pat, g.cols, 0, nullptr, false);
}

}  // namespace

void SpmmBsr(const BsrView& a, ConstDenseView b, DenseView c, const float* bias, bool relu) {
  SpmmDriver(a, b, c, /*accumulate=*/false, bias, relu);
}

void SpmmBsrAccumulate(const BsrView& a, ConstDenseView b, DenseView c) {
  SpmmDriver(a, b, c, /*accumulate=*/true, nullptr, false);
}

void SpmmBsrTransposed(const BsrView& a, ConstDenseView b, DenseView c) { SpmmTDriver(a, b, c, false); }

void SpmmBsrTransposedAccumulate(const BsrView& a, ConstDenseView b, DenseView c) { SpmmTDriver(a, b, c, true); }

void SddmmBsr(const BsrView& pattern, ConstDenseView g, ConstDenseView x, float* out) {
  SddmmDriver(pattern, g, x, out, false);
}

void SddmmBsrAccumulate(const BsrView& pattern, ConstDenseView g, ConstDenseView x, float* out) {
  SddmmDriver(pattern, g, x, out, true);
}

// ============================== reference twins ==============================

void SpmmBsrNaive(const BsrView& a, ConstDenseView b, DenseView c, const float* bias, bool relu) {
  ENGINE_DCHECK(a.cols == b.rows && a.rows == c.rows && b.cols == c.cols);
  for (int64_t ib = 0; ib < a.row_blocks; ++ib) SpmmBlockRowPortable(a, b, c, ib, false, bias, relu);
  CountFlops(a, b.cols, a.rows, bias, relu);
}

void SpmmBsrTransposedNaive(const BsrView& a, ConstDenseView b, DenseView c) {
  ENGINE_DCHECK(a.rows == b.rows && a.cols == c.rows && b.cols == c.cols);
  const int64_t n = b.cols, br = a.block_rows, bc = a.block_cols, bs = br * bc;
  for (int64_t j = 0; j < c.rows; ++j) std::fill(c.row(j), c.row(j) + n, 0.0f);
  // Scatter: block (ib, jb) sends block[r, q] * B[ib * br + r, :] to row jb * bc + q of C.
  for (int64_t ib = 0; ib < a.row_blocks; ++ib) {
    for (int64_t p = a.block_row_offsets[ib]; p < a.block_row_offsets[ib + 1]; ++p) {
      const int64_t jb = a.block_col_indices[p];
      for (int64_t r = 0; r < BsrRowsIn(a, ib); ++r) {
        for (int64_t q = 0; q < BsrColsIn(a, jb); ++q) {
          float* c_row = c.row(jb * bc + q);
          const float* b_row = b.row(ib * br + r);
          for (int64_t t = 0; t < n; ++t) c_row[t] += a.values[p * bs + r * bc + q] * b_row[t];
        }
      }
    }
  }
  CountFlops(a, n, 0, nullptr, false);
}

void SddmmBsrNaive(const BsrView& pattern, ConstDenseView g, ConstDenseView x, float* out) {
  ENGINE_DCHECK(g.rows == pattern.rows && x.rows == pattern.cols && g.cols == x.cols);
  for (int64_t ib = 0; ib < pattern.row_blocks; ++ib) {
    for (int64_t p = pattern.block_row_offsets[ib]; p < pattern.block_row_offsets[ib + 1]; ++p) {
      SddmmBlockPortable(pattern, g, x, ib, p, false, out);
    }
  }
  CountFlops(pattern, g.cols, 0, nullptr, false);
}

}  // namespace engine::kernels
