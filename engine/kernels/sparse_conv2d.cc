// Sparse-weight convolution (see sparse_conv2d.h): padded phase planes per image, then one shifted AXPY (forward,
// input gradient) or one shifted dot product (weight gradient) per nonzero over a whole output plane.
// Longer than the ~600-line guide: one kernel family whose three directions share the phase layout and the two
// register-tiled inner loops (each with its AVX-512 and portable form); splitting would export those internals.
#include "engine/kernels/sparse_conv2d.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "engine/base/check.h"
#include "engine/base/cpu.h"
#include "engine/base/flop_counter.h"
#include "engine/kernels/isa_target.h"
#include "engine/kernels/sddmm.h"
#include "engine/kernels/spmm.h"
#include "engine/kernels/spmm_transposed.h"
#include "engine/tensor/aligned.h"

namespace engine::kernels {
namespace {

using internal::ValidRange;

// N batch, C in-channels, K out-channels, H/W input, P/Q output, R/S filter.
constexpr int64_t kLanes = 16;      // the extended plane is processed in whole 16-float vectors
constexpr int64_t kMaxGroups = 8;   // fixed image groups of the weight gradient (thread-count independent)
constexpr int64_t kMaxBlockImages = 64;          // images per block of the weight gradient, at most
constexpr int64_t kBlockFloats = int64_t{1} << 17;  // phase buffers of one block: about 512 KB

int64_t RoundUp(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

// Zero-padded, stride-phase-split copy of one image of `channels` planes of in_h x in_w.
// Phase (a, b) of channel ch is a plane of ph x pw floats at ((ch*st + a)*st + b) * plane_size, holding padded
// pixel (u*st + a, v*st + b), i.e. source pixel (u*st + a - pad_top, v*st + b - pad_left) or 0 outside.
struct PhaseLayout {
  int64_t st, pad_top, pad_left, in_h, in_w, ph, pw, plane_size, floats;
  // extra_h / extra_w: zero rows / columns added below / right of the symmetric padding.
  PhaseLayout(int64_t channels, int64_t stride, int64_t pad_t, int64_t pad_l, int64_t h, int64_t w,
              int64_t extra_h = 0, int64_t extra_w = 0)
      : st(stride), pad_top(pad_t), pad_left(pad_l), in_h(h), in_w(w) {
    ph = (h + 2 * pad_t + extra_h + stride - 1) / stride;
    pw = (w + 2 * pad_l + extra_w + stride - 1) / stride;
    plane_size = ph * pw;
    // Slack: a shifted run may start up to pw + kernel columns past its plane's last row and is read in whole
    // vectors; reading zeros (or the next plane) there only feeds the discarded extra columns.
    floats = channels * stride * stride * plane_size + pw + 2 * kLanes + 64;
  }
  // Offset of filter tap (ch, r, s) in the phase buffer: the run every output plane position i reads at i + offset.
  int64_t TapOffset(int64_t ch, int64_t r, int64_t s) const {
    return ((ch * st + r % st) * st + s % st) * plane_size + (r / st) * pw + s / st;
  }
};

// Stride 2 on AVX-512: one input row into its two phase rows, 32 pixels per step (two loads, two permutes, two
// stores): pixel w goes to phase row (w + pad_left) % 2 at column (w + pad_left) / 2.
ENGINE_TARGET_AVX512 void DeinterleaveRowAvx512(const float* in, int64_t width, int64_t pad_left, float* out0,
                                                float* out1) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  float* even_out = ((pad_left & 1) != 0 ? out1 : out0) + (pad_left >> 1);  // where pixel 0 goes
  float* odd_out = ((pad_left & 1) != 0 ? out0 : out1) + ((pad_left + 1) >> 1);  // where pixel 1 goes
  auto mask = [](int64_t n) { return static_cast<__mmask16>(n >= 16 ? 0xFFFF : (1u << n) - 1u); };
  for (int64_t w = 0; w < width; w += 32) {
    const int64_t n = std::min<int64_t>(32, width - w);
    const __m512 lo = _mm512_maskz_loadu_ps(mask(n), in + w);
    const __m512 hi = _mm512_maskz_loadu_ps(mask(std::max<int64_t>(0, n - 16)), in + w + 16);
    _mm512_mask_storeu_ps(even_out + w / 2, mask((n + 1) / 2), _mm512_permutex2var_ps(lo, even, hi));
    _mm512_mask_storeu_ps(odd_out + w / 2, mask(n / 2), _mm512_permutex2var_ps(lo, odd, hi));
  }
}

// Stride 1 on AVX-512: each input row of every channel into its padded row, in whole or masked 16-float vectors,
// with no call per row. (This copy is 8% of a WRN-22-2 90% step on Zen 5 either way, as memcpy calls or as this:
// it is where the image's channel planes, N*H*W floats apart in x, first come in from memory.)
ENGINE_TARGET_AVX512 void PadRowsAvx512(int64_t channels, int64_t in_h, int64_t in_w, int64_t pad_top,
                                        int64_t pad_left, int64_t pw, int64_t plane_size, const float* src,
                                        int64_t ld_c, float* dst) {
  const __mmask16 tail = static_cast<__mmask16>((1u << (in_w % 16)) - 1u);
  const int64_t whole = in_w / 16 * 16;
  for (int64_t ch = 0; ch < channels; ++ch) {
    const float* plane = src + ch * ld_c;
    float* out = dst + ch * plane_size + pad_top * pw + pad_left;
    for (int64_t h = 0; h < in_h; ++h) {
      const float* in = plane + h * in_w;
      float* row = out + h * pw;
      for (int64_t v = 0; v < whole; v += 16) _mm512_storeu_ps(row + v, _mm512_loadu_ps(in + v));
      if (tail != 0) _mm512_mask_storeu_ps(row + whole, tail, _mm512_maskz_loadu_ps(tail, in + whole));
    }
  }
}

// dst = the phase planes of channels [0, channels) of one image; src channel ch starts at src + ch * ld_c.
// Only cells that hold a source pixel are written: the padding cells (and the slack) are the same for every image,
// so dst must be zero-filled once when allocated and then stays zero there (Scratch value-initialises).
void BuildPhases(const PhaseLayout& lay, int64_t channels, const float* src, int64_t ld_c, float* dst,
                 bool avx512) {
  const int64_t st = lay.st, pw = lay.pw;
  if (st == 1 && avx512) {
    PadRowsAvx512(channels, lay.in_h, lay.in_w, lay.pad_top, lay.pad_left, pw, lay.plane_size, src, ld_c, dst);
    return;
  }
  if (st == 2 && avx512) {
    for (int64_t ch = 0; ch < channels; ++ch) {
      for (int64_t h = 0; h < lay.in_h; ++h) {
        const int64_t a = (h + lay.pad_top) & 1, u = (h + lay.pad_top) >> 1;
        float* out0 = dst + ((ch * 2 + a) * 2) * lay.plane_size + u * pw;  // phase (a, 0), row u
        DeinterleaveRowAvx512(src + ch * ld_c + h * lay.in_w, lay.in_w, lay.pad_left, out0, out0 + lay.plane_size);
      }
    }
    return;
  }
  for (int64_t ch = 0; ch < channels; ++ch) {
    const float* plane = src + ch * ld_c;
    for (int64_t a = 0; a < st; ++a) {
      for (int64_t b = 0; b < st; ++b) {
        float* out = dst + ((ch * st + a) * st + b) * lay.plane_size;
        // Columns v with 0 <= v*st + b - pad_left < in_w, rows u with 0 <= u*st + a - pad_top < in_h.
        int64_t v_lo, v_hi, u_lo, u_hi;
        ValidRange(lay.pad_left - b, st, lay.in_w, pw, &v_lo, &v_hi);
        ValidRange(lay.pad_top - a, st, lay.in_h, lay.ph, &u_lo, &u_hi);
        for (int64_t u = u_lo; u < u_hi; ++u) {
          float* row = out + u * pw;
          const float* in = plane + (u * st + a - lay.pad_top) * lay.in_w + b - lay.pad_left;  // in[v*st]: column
          if (st == 1) {
            // memcpy: glibc's copy runs on the CPU's widest vectors; this file is compiled for the baseline ISA.
            if (v_hi > v_lo) std::memcpy(row + v_lo, in + v_lo, sizeof(float) * (v_hi - v_lo));
          } else {
            for (int64_t v = v_lo; v < v_hi; ++v) row[v] = in[v * st];
          }
        }
      }
    }
  }
}

// --- shifted AXPY: ext[i] = sum_j val[j] * src[off[j] + i], i in [0, len), len a multiple of kLanes ---

void ShiftedSumPortable(const float* src, const int64_t* off, const float* val, int64_t count, float* ext,
                        int64_t len) {
  constexpr int64_t kTile = 64;
  for (int64_t i0 = 0; i0 < len; i0 += kTile) {
    const int64_t width = std::min(kTile, len - i0);
    float acc[kTile] = {};
    for (int64_t j = 0; j < count; ++j) {
      const float v = val[j];
      const float* s = src + off[j] + i0;
      for (int64_t t = 0; t < width; ++t) acc[t] += v * s[t];
    }
    std::memcpy(ext + i0, acc, sizeof(float) * width);
  }
}

// `vecs` (1..4) vectors of 16 outputs at ext + i. Nonzeros alternate between two register sets (even j, odd j) so
// eight independent FMA chains hide the FMA latency; the sets are added at the end.
template <int kVecs>
ENGINE_TARGET_AVX512 inline void ShiftedSumTile(const float* src, const int64_t* off, const float* val, int64_t count,
                                                float* ext, int64_t i) {
  __m512 a[kVecs], b[kVecs];
  #pragma GCC unroll 8
  for (int t = 0; t < kVecs; ++t) a[t] = b[t] = _mm512_setzero_ps();
  int64_t j = 0;
  for (; j + 2 <= count; j += 2) {
    const __m512 va = _mm512_set1_ps(val[j]), vb = _mm512_set1_ps(val[j + 1]);
    const float* sa = src + off[j] + i;
    const float* sb = src + off[j + 1] + i;
    #pragma GCC unroll 8
    for (int t = 0; t < kVecs; ++t) {
      a[t] = _mm512_fmadd_ps(va, _mm512_loadu_ps(sa + 16 * t), a[t]);
      b[t] = _mm512_fmadd_ps(vb, _mm512_loadu_ps(sb + 16 * t), b[t]);
    }
  }
  if (j < count) {
    const __m512 va = _mm512_set1_ps(val[j]);
    const float* sa = src + off[j] + i;
    #pragma GCC unroll 8
    for (int t = 0; t < kVecs; ++t) a[t] = _mm512_fmadd_ps(va, _mm512_loadu_ps(sa + 16 * t), a[t]);
  }
  #pragma GCC unroll 8
  for (int t = 0; t < kVecs; ++t) _mm512_storeu_ps(ext + i + 16 * t, _mm512_add_ps(a[t], b[t]));
}

// ShiftedSumTile with its width (1..8 vectors) chosen at run time.
ENGINE_TARGET_AVX512 inline void ShiftedSumTileOf(int64_t width, const float* src, const int64_t* off,
                                                  const float* val, int64_t count, float* ext, int64_t i) {
  switch (width) {
    case 8: ShiftedSumTile<8>(src, off, val, count, ext, i); break;
    case 7: ShiftedSumTile<7>(src, off, val, count, ext, i); break;
    case 6: ShiftedSumTile<6>(src, off, val, count, ext, i); break;
    case 5: ShiftedSumTile<5>(src, off, val, count, ext, i); break;
    case 4: ShiftedSumTile<4>(src, off, val, count, ext, i); break;
    case 3: ShiftedSumTile<3>(src, off, val, count, ext, i); break;
    case 2: ShiftedSumTile<2>(src, off, val, count, ext, i); break;
    default: ShiftedSumTile<1>(src, off, val, count, ext, i); break;
  }
}

ENGINE_TARGET_AVX512 void ShiftedSumAvx512(const float* src, const int64_t* off, const float* val, int64_t count,
                                           float* ext, int64_t len) {
  // Up to 128 outputs held in registers while all nonzeros stream past: one load + one FMA per vector, one store.
  // The len / 16 vectors are cut into tiles of nearly equal width (at most 8), so no narrow residue tile runs
  // latency-bound (an 8x8 image's 80-float plane is one tile of 5 vectors).
  const int64_t vectors = len / 16, tiles = (vectors + 7) / 8;
  int64_t i = 0;
  for (int64_t t = 0; t < tiles; ++t) {
    const int64_t width = vectors * (t + 1) / tiles - vectors * t / tiles;
    ShiftedSumTileOf(width, src, off, val, count, ext, i);
    i += 16 * width;
  }
}

void ShiftedSum(bool avx512, const float* src, const int64_t* off, const float* val, int64_t count, float* ext,
                int64_t len) {
  if (avx512) {
    ShiftedSumAvx512(src, off, val, count, ext, len);
  } else {
    ShiftedSumPortable(src, off, val, count, ext, len);
  }
}

// ShiftedSum for `rows` output rows at once: row r has the entries [bounds[r * bstride], bounds[(r + 1) * bstride])
// of off / val and its extended plane at ext + r * len (rows without entries are left alone). The bits are those of
// one ShiftedSum per row; only the loop order differs. Tile-outer: every row computes its first tile of up to
// 128 outputs, then every row its second, and so on. A tile reads a window of a few rows of every channel plane
// (R + 4 rows of pw floats per channel for a 128-float tile), which stays in L1 while all rows use it; row by row
// the whole padded image (115 KB for 32 channels of 30 x 30) streams from L2 once per row.
ENGINE_TARGET_AVX512 void ShiftedSumRowsAvx512(const float* src, const int64_t* bounds, int64_t bstride,
                                               const int64_t* off, const float* val, int64_t rows, float* ext,
                                               int64_t len) {
  const int64_t vectors = len / 16, tiles = (vectors + 7) / 8;  // the same split as ShiftedSumAvx512
  int64_t i = 0;
  for (int64_t t = 0; t < tiles; ++t) {
    const int64_t width = vectors * (t + 1) / tiles - vectors * t / tiles;
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t begin = bounds[r * bstride], count = bounds[(r + 1) * bstride] - begin;
      if (count == 0) continue;
      ShiftedSumTileOf(width, src, off + begin, val + begin, count, ext + r * len, i);
    }
    i += 16 * width;
  }
}

// Whether a call runs tile-outer (ShiftedSumRowsAvx512 for all rows of a part, each row's plane kept) or row by
// row (ShiftedSum into one reused plane). Tile-outer pays only when the padded image of src_floats spills out of
// L1 (measured on Zen 5: 15-20% on a 32 x 32 image of 32 channels, a loss on 8 x 8 x 128, where the image is
// L1-resident and the rows' planes are extra traffic). The bits are the same either way.
bool TileOuter(bool avx512, int64_t src_floats) {
  constexpr int64_t kTileOuterFloats = int64_t{24} << 10;  // 96 KB
  return avx512 && src_floats > kTileOuterFloats;
}

// --- shifted dot over a block of images: out[j] += sum_{m < images} sum_i g[m*len + i] * src[m*stride + off[j] + i],
// i in [0, len), len a multiple of kLanes. Image m has its phase buffer at src + m*stride and its extended dY at
// g + m*len; summing all images before reducing the lanes keeps the reduction off the hot path. ---

void ShiftedDotPortable(const float* src, int64_t stride, int64_t images, const int64_t* off, int64_t count,
                        const float* g, int64_t len, float* out) {
  for (int64_t j = 0; j < count; ++j) {
    float lanes[kLanes] = {};
    for (int64_t m = 0; m < images; ++m) {
      const float* s = src + m * stride + off[j];
      const float* gm = g + m * len;
      for (int64_t i = 0; i < len; i += kLanes) {
        for (int64_t t = 0; t < kLanes; ++t) lanes[t] += gm[i + t] * s[i + t];
      }
    }
    float sum = 0.0f;
    for (int64_t t = 0; t < kLanes; ++t) sum += lanes[t];
    out[j] += sum;
  }
}

// Sum of the 16 lanes, in lane order.
ENGINE_TARGET_AVX512 float HorizontalSum(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  float sum = 0.0f;
  for (float lane : lanes) sum += lane;
  return sum;
}

// out[r] += sum of the 16 lanes of acc[r], r < 8: a shuffle tree that sums 8 vectors at once (about 3
// instructions per vector instead of 16 scalar adds; the order of additions is fixed, so results are repeatable).
ENGINE_TARGET_AVX512 inline void AddLaneSums8(const __m512* acc, float* out) {
  // Halves of 256 bits: x[j] holds 8 partial sums of acc[2j] (low half) and 8 of acc[2j+1] (high half).
  __m512 x[4];
  for (int j = 0; j < 4; ++j) {
    x[j] = _mm512_add_ps(_mm512_shuffle_f32x4(acc[2 * j], acc[2 * j + 1], 0x44),
                         _mm512_shuffle_f32x4(acc[2 * j], acc[2 * j + 1], 0xEE));
  }
  // Quads of 128 bits: y[j] quad q holds 4 partial sums of acc[4j + q].
  const __m512 y0 = _mm512_add_ps(_mm512_shuffle_f32x4(x[0], x[1], 0x88), _mm512_shuffle_f32x4(x[0], x[1], 0xDD));
  const __m512 y1 = _mm512_add_ps(_mm512_shuffle_f32x4(x[2], x[3], 0x88), _mm512_shuffle_f32x4(x[2], x[3], 0xDD));
  // Within each quad q: z = [2 sums of acc[q], 2 sums of acc[4 + q]], then w = [sum acc[q], sum acc[4 + q], ...].
  const __m512 z = _mm512_add_ps(_mm512_shuffle_ps(y0, y1, 0x88), _mm512_shuffle_ps(y0, y1, 0xDD));
  const __m512 w = _mm512_add_ps(_mm512_shuffle_ps(z, z, 0x88), _mm512_shuffle_ps(z, z, 0xDD));
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, w);
  for (int q = 0; q < 4; ++q) {
    out[q] += lanes[4 * q];
    out[4 + q] += lanes[4 * q + 1];
  }
}

// Dot products of g with `kRows` shifted runs at once, over all images of the block: each load of g feeds kRows
// FMAs (kRows independent chains); lanes are reduced once per block.
template <int kRows>
ENGINE_TARGET_AVX512 inline void ShiftedDotRows(const float* src, int64_t stride, int64_t images, const int64_t* off,
                                                const float* g, int64_t len, float* out) {
  __m512 acc[kRows];
#pragma GCC unroll 8
  for (int r = 0; r < kRows; ++r) acc[r] = _mm512_setzero_ps();
  for (int64_t m = 0; m < images; ++m) {
    const float* base = src + m * stride;
    const float* gm = g + m * len;
    for (int64_t i = 0; i < len; i += 16) {
      const __m512 gv = _mm512_loadu_ps(gm + i);
#pragma GCC unroll 8
      for (int r = 0; r < kRows; ++r) acc[r] = _mm512_fmadd_ps(gv, _mm512_loadu_ps(base + off[r] + i), acc[r]);
    }
  }
  if (kRows == 8) {
    AddLaneSums8(acc, out);
    return;
  }
#pragma GCC unroll 8
  for (int r = 0; r < kRows; ++r) out[r] += HorizontalSum(acc[r]);
}

ENGINE_TARGET_AVX512 void ShiftedDotAvx512(const float* src, int64_t stride, int64_t images, const int64_t* off,
                                           int64_t count, const float* g, int64_t len, float* out) {
  int64_t j = 0;
  for (; j + 8 <= count; j += 8) ShiftedDotRows<8>(src, stride, images, off + j, g, len, out + j);
  if (j + 4 <= count) {
    ShiftedDotRows<4>(src, stride, images, off + j, g, len, out + j);
    j += 4;
  }
  for (; j < count; ++j) ShiftedDotRows<1>(src, stride, images, off + j, g, len, out + j);
}

void ShiftedDot(bool avx512, const float* src, int64_t stride, int64_t images, const int64_t* off, int64_t count,
                const float* g, int64_t len, float* out) {
  if (avx512) {
    ShiftedDotAvx512(src, stride, images, off, count, g, len, out);
  } else {
    ShiftedDotPortable(src, stride, images, off, count, g, len, out);
  }
}

// off[p] = the phase-buffer offset of stored position p = (k; c, r, s), for every p (computed once per call,
// outside the per-image loops: the integer divisions would otherwise cost as much as the FMAs on small planes).
void TapOffsets(const Conv2dParams& cp, const PhaseLayout& lay, const CsrView& w, int64_t* off) {
  const int64_t RS = cp.kernel_h * cp.kernel_w;
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < w.nnz; ++p) {
    const int64_t col = w.col_indices[p], c = col / RS, r = (col % RS) / cp.kernel_w, s = col % cp.kernel_w;
    off[p] = lay.TapOffset(c, r, s);
  }
}

// Per-thread scratch: one slice of `floats` floats per OpenMP thread, zero-filled at allocation.
struct Scratch {
  AlignedVector<float> f;
  int64_t floats;
  explicit Scratch(int64_t floats_per_thread) : floats(RoundUp(floats_per_thread, kLanes)) {
    f.resize(static_cast<size_t>(floats * omp_get_max_threads()));
  }
  float* F() { return f.data() + floats * omp_get_thread_num(); }
};

// Work items for `items` independent units split into parts so that every thread has work even for small N.
int64_t PartsPer(int64_t items) {
  const int64_t threads = omp_get_max_threads();
  return std::max<int64_t>(1, (2 * threads + items - 1) / items);
}

double Flops(const Conv2dParams& cp, const CsrView& w) {
  return 2.0 * static_cast<double>(w.nnz) * static_cast<double>(cp.batch * cp.out_h() * cp.out_w());
}

// d_x += dY ⋆ flip(W) for stride 1 and pad <= R-1, S-1: a stride-1 correlation of dY padded by R-1-pad, S-1-pad.
void BackwardInputFlipped(const Conv2dParams& cp, const CsrView& w, ConstDenseView d_y, DenseView d_x) {
  const int64_t C = cp.in_channels, H = cp.in_h, W = cp.in_w, K = cp.out_channels, P = cp.out_h(), Q = cp.out_w();
  const int64_t R = cp.kernel_h, S = cp.kernel_w, RS = R * S;
  const PhaseLayout lay(K, 1, R - 1 - cp.pad, S - 1 - cp.pad, P, Q);  // lay.pw = W + S - 1
  const int64_t ext_len = RoundUp(H * lay.pw, kLanes);
  // Flipped-tap offsets and values of every entry of the transposed index, computed once: the entries of input
  // channel c are e in [t_col_offsets[c*R*S], t_col_offsets[(c+1)*R*S]) (its R*S columns are consecutive).
  std::vector<int64_t> off(static_cast<size_t>(std::max<int64_t>(1, w.nnz)));
  AlignedVector<float> val(static_cast<size_t>(std::max<int64_t>(1, w.nnz)));
#pragma omp parallel for schedule(static)
  for (int64_t col = 0; col < C * RS; ++col) {
    const int64_t r = (col % RS) / S, s = col % S;
    for (int64_t e = w.t_col_offsets[col]; e < w.t_col_offsets[col + 1]; ++e) {
      off[e] = lay.TapOffset(w.t_rows[e], R - 1 - r, S - 1 - s);
      val[e] = w.values[w.t_positions[e]];
    }
  }
  const int64_t parts = PartsPer(cp.batch), tasks = cp.batch * parts;
  const bool avx512 = ActiveIsa() == Isa::kAvx512, tile_outer = TileOuter(avx512, lay.floats);
  const int64_t planes = tile_outer ? (C + parts - 1) / parts : 1;  // input channels of one part, at most
  Scratch scratch(lay.floats + planes * ext_len);
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t n = t / parts, part = t % parts, c0 = C * part / parts, c1 = C * (part + 1) / parts;
    float* padded = scratch.F();
    float* ext = padded + lay.floats;  // channel c's extended plane (at ext + (c - c0) * ext_len if tile_outer)
    BuildPhases(lay, K, d_y.data + n * P * Q, d_y.ld, padded, avx512);
    if (tile_outer) {
      ShiftedSumRowsAvx512(padded, w.t_col_offsets + c0 * RS, RS, off.data(), val.data(), c1 - c0, ext, ext_len);
    }
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t begin = w.t_col_offsets[c * RS], count = w.t_col_offsets[(c + 1) * RS] - begin;
      if (count == 0) continue;
      if (!tile_outer) ShiftedSum(avx512, padded, off.data() + begin, val.data() + begin, count, ext, ext_len);
      const float* e_c = tile_outer ? ext + (c - c0) * ext_len : ext;
      float* out = d_x.row(c) + n * H * W;  // d_x[c, n, :, :]
      for (int64_t h = 0; h < H; ++h) {
        const float* e = e_c + h * lay.pw;
        for (int64_t v = 0; v < W; ++v) out[h * W + v] += e[v];
      }
    }
  }
}

// Stride 2 on AVX-512, the inverse of DeinterleaveRowAvx512: out[w] += phase row (w + pad) % 2 at column
// (w + pad) / 2, for w in [0, width), 32 pixels per step.
ENGINE_TARGET_AVX512 void InterleaveAddRowAvx512(const float* in0, const float* in1, int64_t width, int64_t pad,
                                                 float* out) {
  const __m512i lo_idx = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi_idx = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const float* even_in = ((pad & 1) != 0 ? in1 : in0) + (pad >> 1);      // pixel 0's source
  const float* odd_in = ((pad & 1) != 0 ? in0 : in1) + ((pad + 1) >> 1);  // pixel 1's source
  auto mask = [](int64_t n) { return static_cast<__mmask16>(n >= 16 ? 0xFFFF : (1u << n) - 1u); };
  for (int64_t w = 0; w < width; w += 32) {
    const int64_t n = std::min<int64_t>(32, width - w);
    const __m512 e = _mm512_maskz_loadu_ps(mask((n + 1) / 2), even_in + w / 2);
    const __m512 o = _mm512_maskz_loadu_ps(mask(n / 2), odd_in + w / 2);
    const __mmask16 m_lo = mask(n), m_hi = mask(std::max<int64_t>(0, n - 16));
    _mm512_mask_storeu_ps(out + w, m_lo, _mm512_add_ps(_mm512_maskz_loadu_ps(m_lo, out + w),
                                                       _mm512_permutex2var_ps(e, lo_idx, o)));
    _mm512_mask_storeu_ps(out + w + 16, m_hi, _mm512_add_ps(_mm512_maskz_loadu_ps(m_hi, out + w + 16),
                                                            _mm512_permutex2var_ps(e, hi_idx, o)));
  }
}

// d_x += ... for any stride and padding. The input gradient splits into stride x stride phases by
// (h + pad) mod st = a and (w + pad) mod st = b; phase (a, b) receives only taps r = a + st*t, s = b + st*t', and
// is a stride-1 correlation of dY (zero-padded by Tr = (R-1)/st rows on top, Ts = (S-1)/st columns on the left) with
// that sub-filter flipped:  d_x[c, st*u + a - pad, st*v + b - pad] += W[k, c, r, s] * dYp[k, u + Tr - t, v + Ts - t'].
// So it runs on the same shifted-AXPY engine as the forward, with no multiply by an inserted zero.
void BackwardInputPhased(const Conv2dParams& cp, const CsrView& w, ConstDenseView d_y, DenseView d_x) {
  const int64_t C = cp.in_channels, H = cp.in_h, W = cp.in_w, K = cp.out_channels, P = cp.out_h(), Q = cp.out_w();
  const int64_t R = cp.kernel_h, S = cp.kernel_w, RS = R * S, st = cp.stride, pad = cp.pad, phases = st * st;
  const int64_t Tr = (R - 1) / st, Ts = (S - 1) / st;
  const int64_t U = (H - 1 + pad) / st + 1, V = (W - 1 + pad) / st + 1;  // phase-grid rows / columns, at most
  const PhaseLayout lay(K, 1, Tr, Ts, P, Q, std::max<int64_t>(0, U - P - Tr), std::max<int64_t>(0, V - Q - Ts));
  // Entries of the transposed index regrouped by (input channel, phase), with their offsets and values: once.
  std::vector<int64_t> begin(static_cast<size_t>(C * phases + 1), 0);
  for (int64_t col = 0; col < C * RS; ++col) {
    const int64_t r = (col % RS) / S, s = col % S, group = (col / RS) * phases + (r % st) * st + s % st;
    begin[group + 1] += w.t_col_offsets[col + 1] - w.t_col_offsets[col];
  }
  for (int64_t g = 0; g < C * phases; ++g) begin[g + 1] += begin[g];
  std::vector<int64_t> off(static_cast<size_t>(std::max<int64_t>(1, w.nnz))), cursor(begin.begin(), begin.end() - 1);
  AlignedVector<float> val(static_cast<size_t>(std::max<int64_t>(1, w.nnz)));
  for (int64_t col = 0; col < C * RS; ++col) {
    const int64_t r = (col % RS) / S, s = col % S, group = (col / RS) * phases + (r % st) * st + s % st;
    for (int64_t e = w.t_col_offsets[col]; e < w.t_col_offsets[col + 1]; ++e) {
      const int64_t at = cursor[group]++;
      off[at] = lay.TapOffset(w.t_rows[e], Tr - r / st, Ts - s / st);
      val[at] = w.values[w.t_positions[e]];
    }
  }
  const int64_t ext_max = RoundUp(U * lay.pw, kLanes);
  Scratch scratch(lay.floats + phases * ext_max);
  const bool avx512 = ActiveIsa() == Isa::kAvx512;
  const bool interleave = avx512 && st == 2;  // all four phases first, then one interleaving pass per row
  const int64_t parts = PartsPer(cp.batch), tasks = cp.batch * parts;
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t n = t / parts, part = t % parts;
    float* padded = scratch.F();
    float* ext = padded + lay.floats;  // phase (a, b) at ext + (a*st + b) * ext_max when interleaving
    BuildPhases(lay, K, d_y.data + n * P * Q, d_y.ld, padded, avx512);
    for (int64_t c = C * part / parts; c < C * (part + 1) / parts; ++c) {
      float* out = d_x.row(c) + n * H * W;  // d_x[c, n, :, :]
      if (begin[(c + 1) * phases] == begin[c * phases]) continue;  // no entry for this channel
      for (int64_t a = 0; a < st; ++a) {
        int64_t u_lo, u_hi;  // h = st*u + a - pad inside [0, H)
        ValidRange(pad - a, st, H, U, &u_lo, &u_hi);
        for (int64_t b = 0; b < st; ++b) {
          const int64_t group = c * phases + a * st + b, count = begin[group + 1] - begin[group];
          int64_t v_lo, v_hi;
          ValidRange(pad - b, st, W, V, &v_lo, &v_hi);
          float* e_ab = interleave ? ext + (a * st + b) * ext_max : ext;
          if (interleave && count == 0) std::fill(e_ab, e_ab + ext_max, 0.0f);
          if (count == 0 || u_lo >= u_hi || v_lo >= v_hi) continue;
          ShiftedSum(avx512, padded, off.data() + begin[group], val.data() + begin[group], count, e_ab,
                     RoundUp(u_hi * lay.pw, kLanes));
          if (interleave) continue;
          for (int64_t u = u_lo; u < u_hi; ++u) {
            float* o = out + (st * u + a - pad) * W + b - pad;  // o[st*v] = d_x column st*v + b - pad
            const float* e = ext + u * lay.pw;
            for (int64_t v = v_lo; v < v_hi; ++v) o[st * v] += e[v];
          }
        }
      }
      if (!interleave) continue;
      for (int64_t h = 0; h < H; ++h) {
        const int64_t a = (h + pad) & 1, u = (h + pad) >> 1;
        const float* e0 = ext + (a * 2) * ext_max + u * lay.pw;  // phase (a, 0), row u
        InterleaveAddRowAvx512(e0, e0 + ext_max, W, pad, out + h * W);
      }
    }
  }
}

}  // namespace

void SparseConv2dForward(const Conv2dParams& cp, const CsrView& w, ConstDenseView x, DenseView y, const float* bias,
                         bool relu) {
  ENGINE_DCHECK(w.rows == cp.out_channels && w.cols == cp.filter_size());
  ENGINE_DCHECK(x.rows == cp.in_channels && x.cols == cp.batch * cp.in_h * cp.in_w);
  ENGINE_DCHECK(y.rows == cp.out_channels && y.cols == cp.batch * cp.out_h() * cp.out_w());
  if (cp.IsPointwise()) {
    SpmmCsr(w, x, y, bias, relu);
    return;
  }
  const int64_t C = cp.in_channels, H = cp.in_h, W = cp.in_w, K = cp.out_channels, P = cp.out_h(), Q = cp.out_w();
  const PhaseLayout lay(C, cp.stride, cp.pad, cp.pad, H, W);
  const int64_t ext_len = RoundUp(P * lay.pw, kLanes);
  std::vector<int64_t> off(static_cast<size_t>(std::max<int64_t>(1, w.nnz)));
  TapOffsets(cp, lay, w, off.data());
  const int64_t parts = PartsPer(cp.batch), tasks = cp.batch * parts;
  const bool avx512 = ActiveIsa() == Isa::kAvx512, tile_outer = TileOuter(avx512, lay.floats);
  const int64_t planes = tile_outer ? (K + parts - 1) / parts : 1;  // output channels of one part, at most
  Scratch scratch(lay.floats + planes * ext_len);
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t n = t / parts, part = t % parts, k0 = K * part / parts, k1 = K * (part + 1) / parts;
    float* padded = scratch.F();
    float* ext = padded + lay.floats;  // channel k's extended plane (at ext + (k - k0) * ext_len if tile_outer)
    BuildPhases(lay, C, x.data + n * H * W, x.ld, padded, avx512);
    if (tile_outer) ShiftedSumRowsAvx512(padded, w.row_offsets + k0, 1, off.data(), w.values, k1 - k0, ext, ext_len);
    for (int64_t k = k0; k < k1; ++k) {
      const int64_t begin = w.row_offsets[k], count = w.row_offsets[k + 1] - begin;
      float* out = y.row(k) + n * P * Q;  // y[k, n, :, :]
      const float b = bias != nullptr ? bias[k] : 0.0f;
      if (count == 0) {
        std::fill(out, out + P * Q, relu ? std::max(b, 0.0f) : b);
        continue;
      }
      if (!tile_outer) ShiftedSum(avx512, padded, off.data() + begin, w.values + begin, count, ext, ext_len);
      const float* e_k = tile_outer ? ext + (k - k0) * ext_len : ext;
      for (int64_t p = 0; p < P; ++p) {
        const float* e = e_k + p * lay.pw;
        float* o = out + p * Q;
        if (relu) {
          for (int64_t q = 0; q < Q; ++q) o[q] = std::max(e[q] + b, 0.0f);
        } else {
          for (int64_t q = 0; q < Q; ++q) o[q] = e[q] + b;
        }
      }
    }
  }
  FlopCounter::Add(Flops(cp, w) + ((bias != nullptr ? 1.0 : 0.0) + (relu ? 1.0 : 0.0)) *
                                      static_cast<double>(K * cp.batch * P * Q));
}

void SparseConv2dBackwardInput(const Conv2dParams& cp, const CsrView& w, ConstDenseView d_y, DenseView d_x) {
  ENGINE_DCHECK(w.t_col_offsets != nullptr && w.t_positions != nullptr && w.t_rows != nullptr);
  ENGINE_DCHECK(d_x.rows == cp.in_channels && d_y.rows == cp.out_channels);
  if (cp.IsPointwise()) {
    SpmmCsrTransposedAccumulate(w, d_y, d_x);
    return;
  }
  if (cp.stride == 1 && cp.pad <= cp.kernel_h - 1 && cp.pad <= cp.kernel_w - 1) {
    BackwardInputFlipped(cp, w, d_y, d_x);
  } else {
    BackwardInputPhased(cp, w, d_y, d_x);
  }
  FlopCounter::Add(Flops(cp, w));
}

void SparseConv2dBackwardWeight(const Conv2dParams& cp, const CsrView& w, ConstDenseView d_y, ConstDenseView x,
                                float* d_w_values) {
  ENGINE_DCHECK(d_y.rows == cp.out_channels && x.rows == cp.in_channels);
  if (cp.IsPointwise()) {
    SddmmCsrAccumulate(w, d_y, x, d_w_values);
    return;
  }
  const int64_t C = cp.in_channels, H = cp.in_h, W = cp.in_w, K = cp.out_channels, P = cp.out_h(), Q = cp.out_w();
  const PhaseLayout lay(C, cp.stride, cp.pad, cp.pad, H, W);
  const int64_t ext_len = RoundUp(P * lay.pw, kLanes);
  // Images are taken `block` at a time (phase buffers of about 512 KB, so they stay in L2), and blocks are split
  // into a fixed number of groups with their own partial sums: nothing here depends on the thread count.
  const int64_t block =
      std::max<int64_t>(1, std::min<int64_t>({cp.batch, kMaxBlockImages, kBlockFloats / lay.floats}));
  const int64_t blocks = (cp.batch + block - 1) / block;
  const int64_t groups = std::min<int64_t>(blocks, kMaxGroups);
  AlignedVector<float> partial(static_cast<size_t>(groups * std::max<int64_t>(1, w.nnz)), 0.0f);
  std::vector<int64_t> off(static_cast<size_t>(std::max<int64_t>(1, w.nnz)));
  TapOffsets(cp, lay, w, off.data());
  Scratch scratch(block * (lay.floats + ext_len));
  const bool avx512 = ActiveIsa() == Isa::kAvx512;
  // Group g sums blocks [blocks*g/groups, blocks*(g+1)/groups) into its own partial; groups are added in order below.
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t g = 0; g < groups; ++g) {
    float* padded = scratch.F();                   // image m of the block at padded + m * lay.floats
    float* dy_ext = padded + block * lay.floats;  // dY[k, image m] extended at dy_ext + m * ext_len, 0 elsewhere
    float* sums = partial.data() + g * w.nnz;
    std::fill(dy_ext, dy_ext + block * ext_len, 0.0f);
    for (int64_t blk = blocks * g / groups; blk < blocks * (g + 1) / groups; ++blk) {
      const int64_t n0 = blk * block, images = std::min(block, cp.batch - n0);
      for (int64_t m = 0; m < images; ++m) {
        BuildPhases(lay, C, x.data + (n0 + m) * H * W, x.ld, padded + m * lay.floats, avx512);
      }
      for (int64_t k = 0; k < K; ++k) {
        const int64_t begin = w.row_offsets[k], count = w.row_offsets[k + 1] - begin;
        if (count == 0) continue;
        for (int64_t m = 0; m < images; ++m) {
          const float* g_plane = d_y.row(k) + (n0 + m) * P * Q;
          float* e = dy_ext + m * ext_len;
          for (int64_t p = 0; p < P; ++p) {
            for (int64_t q = 0; q < Q; ++q) e[p * lay.pw + q] = g_plane[p * Q + q];
          }
        }
        ShiftedDot(avx512, padded, lay.floats, images, off.data() + begin, count, dy_ext, ext_len, sums + begin);
      }
    }
  }
  // Positions are independent: one writer each; groups summed in a fixed order.
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < w.nnz; ++p) {
    float sum = 0.0f;
    for (int64_t g = 0; g < groups; ++g) sum += partial[g * w.nnz + p];
    d_w_values[p] += sum;
  }
  FlopCounter::Add(Flops(cp, w));
}

// --- naive twins ---

void SparseConv2dForwardNaive(const Conv2dParams& cp, const CsrView& w, ConstDenseView x, DenseView y,
                              const float* bias, bool relu) {
  const int64_t H = cp.in_h, W = cp.in_w, P = cp.out_h(), Q = cp.out_w(), R = cp.kernel_h, S = cp.kernel_w;
  for (int64_t k = 0; k < cp.out_channels; ++k) {
    for (int64_t n = 0; n < cp.batch; ++n) {
      for (int64_t p = 0; p < P; ++p) {
        for (int64_t q = 0; q < Q; ++q) {
          float sum = bias != nullptr ? bias[k] : 0.0f;
          for (int64_t e = w.row_offsets[k]; e < w.row_offsets[k + 1]; ++e) {
            const int64_t col = w.col_indices[e], c = col / (R * S), r = (col / S) % R, s = col % S;
            const int64_t h = p * cp.stride + r - cp.pad, v = q * cp.stride + s - cp.pad;
            if (h >= 0 && h < H && v >= 0 && v < W) sum += w.values[e] * x.at(c, (n * H + h) * W + v);
          }
          y.at(k, (n * P + p) * Q + q) = relu ? std::max(sum, 0.0f) : sum;
        }
      }
    }
  }
  FlopCounter::Add(Flops(cp, w));
}

void SparseConv2dBackwardInputNaive(const Conv2dParams& cp, const CsrView& w, ConstDenseView d_y, DenseView d_x) {
  const int64_t H = cp.in_h, W = cp.in_w, P = cp.out_h(), Q = cp.out_w(), R = cp.kernel_h, S = cp.kernel_w;
  for (int64_t k = 0; k < cp.out_channels; ++k) {
    for (int64_t e = w.row_offsets[k]; e < w.row_offsets[k + 1]; ++e) {
      const int64_t col = w.col_indices[e], c = col / (R * S), r = (col / S) % R, s = col % S;
      for (int64_t n = 0; n < cp.batch; ++n) {
        for (int64_t p = 0; p < P; ++p) {
          for (int64_t q = 0; q < Q; ++q) {
            const int64_t h = p * cp.stride + r - cp.pad, v = q * cp.stride + s - cp.pad;
            if (h >= 0 && h < H && v >= 0 && v < W) {
              d_x.at(c, (n * H + h) * W + v) += w.values[e] * d_y.at(k, (n * P + p) * Q + q);
            }
          }
        }
      }
    }
  }
  FlopCounter::Add(Flops(cp, w));
}

void SparseConv2dBackwardWeightNaive(const Conv2dParams& cp, const CsrView& w, ConstDenseView d_y,
                                     ConstDenseView x, float* d_w_values) {
  const int64_t H = cp.in_h, W = cp.in_w, P = cp.out_h(), Q = cp.out_w(), R = cp.kernel_h, S = cp.kernel_w;
  for (int64_t k = 0; k < cp.out_channels; ++k) {
    for (int64_t e = w.row_offsets[k]; e < w.row_offsets[k + 1]; ++e) {
      const int64_t col = w.col_indices[e], c = col / (R * S), r = (col / S) % R, s = col % S;
      float sum = 0.0f;
      for (int64_t n = 0; n < cp.batch; ++n) {
        for (int64_t p = 0; p < P; ++p) {
          for (int64_t q = 0; q < Q; ++q) {
            const int64_t h = p * cp.stride + r - cp.pad, v = q * cp.stride + s - cp.pad;
            if (h >= 0 && h < H && v >= 0 && v < W) {
              sum += d_y.at(k, (n * P + p) * Q + q) * x.at(c, (n * H + h) * W + v);
            }
          }
        }
      }
      d_w_values[e] += sum;
    }
  }
  FlopCounter::Add(Flops(cp, w));
}

}  // namespace engine::kernels
