// Direct many-channel stride-1 convolution over padded planes (see conv2d_plane.h).
#include "engine/kernels/conv2d_plane.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "engine/base/cpu.h"
#include "engine/base/flop_counter.h"
#include "engine/kernels/isa_target.h"
#include "engine/kernels/v16.h"
#include "engine/tensor/aligned.h"

// V16 values only ever live inside the per-ISA functions below (every helper is always_inline), so the ABI of passing
// them by value, which -Wpsabi warns about, never applies.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace engine::kernels::internal {
namespace {

#define ENGINE_CP_INLINE inline __attribute__((always_inline))

constexpr int64_t kLanes = 16;
constexpr int kBlock = 8;             // output channels accumulated together
constexpr int kTileVectors = 3;       // plane positions per tile: 3 vectors (8 x 3 accumulators)
constexpr int64_t kMinChannels = 9;   // up to 8 input channels: conv2d_direct.h
constexpr int64_t kMaxPaddedRow = 64;
constexpr int64_t kMaxImageFloats = int64_t{1} << 20;
constexpr int64_t kSlack = kTileVectors * kLanes;  // zeros after the planes: the last tile reads up to here


// One stride-1 convolution in plane terms: input [C, N, H, W] -> output [K, N, P, Q] under an R x S filter with
// padding pad_h (rows) and pad_w (columns).
struct PlaneShape {
  int64_t N, C, H, W, K, R, S, pad_h, pad_w, P, Q, Hp, Wp;
  int64_t taps() const { return C * R * S; }
  int64_t image_floats() const { return C * Hp * Wp + kSlack; }
  int64_t positions() const { return (P - 1) * Wp + Q; }  // plane positions from (0, 0) to (P-1, Q-1)
  int64_t blocks() const { return (K + kBlock - 1) / kBlock; }
};

// The weight gradient's tasks: 4 output channels x 6 taps (24 accumulators, 10 loads per 24 FMAs), over chunks of
// images whose padded copies and dY planes fill about 1 MB (L2) and hold at least 1600 plane positions, so the
// lane sums (one per task and chunk) stay a small part of the work.
constexpr int kGradChannels = 4;
constexpr int kGradTaps = 6;
constexpr int64_t kGradChunkBytes = int64_t{1} << 20;
constexpr int64_t kGradChunkPositions = 1600;
// Below this share of useful plane positions (7x7: 49 of 64) lowering and sgemm are as fast or faster (Xeon model
// 167, conv2d_bench, 2 threads: the 128 x 8 x 8 step took 50.6 ms on planes against 45.2 lowered; the 64 x 16 x 16
// one, 89% useful, 44.6 against 52.5).
constexpr double kMinUseful = 0.85;
int64_t GradRow(const PlaneShape& g) { return (g.positions() + kLanes - 1) / kLanes * kLanes; }  // Lv
int64_t GradChannels4(const PlaneShape& g) { return (g.K + kGradChannels - 1) / kGradChannels * kGradChannels; }

PlaneShape MakeShape(int64_t N, int64_t C, int64_t H, int64_t W, int64_t K, int64_t R, int64_t S, int64_t pad_h,
                     int64_t pad_w) {
  PlaneShape g{N, C, H, W, K, R, S, pad_h, pad_w, 0, 0, H + 2 * pad_h, W + 2 * pad_w};
  g.P = g.Hp - R + 1;
  g.Q = g.Wp - S + 1;
  return g;
}

PlaneShape ForwardShape(const Conv2dParams& cp) {
  return MakeShape(cp.batch, cp.in_channels, cp.in_h, cp.in_w, cp.out_channels, cp.kernel_h, cp.kernel_w, cp.pad,
                   cp.pad);
}
// dX = conv(W', dY): C outputs from K inputs, padding R-1-pad and S-1-pad.
PlaneShape FlippedShape(const Conv2dParams& cp) {
  return MakeShape(cp.batch, cp.out_channels, cp.out_h(), cp.out_w(), cp.in_channels, cp.kernel_h, cp.kernel_w,
                   cp.kernel_h - 1 - cp.pad, cp.kernel_w - 1 - cp.pad);
}

// Offset of tap (c, r, s) in an image's padded copy: the input of plane position i is at i + offset.
std::vector<int64_t> TapOffsets(const PlaneShape& g) {
  std::vector<int64_t> offsets(static_cast<size_t>(g.taps()));
  for (int64_t t = 0; t < g.taps(); ++t) {
    const int64_t c = t / (g.R * g.S), r = (t / g.S) % g.R, s = t % g.S;
    offsets[t] = (c * g.Hp + r) * g.Wp + s;
  }
  return offsets;
}

bool Fits(const PlaneShape& g) { return g.Wp <= kMaxPaddedRow && g.image_floats() <= kMaxImageFloats; }

// xp[c, pad_h + h, pad_w + w] = x[c, n, h, w]; zero elsewhere (slack included).
void PadImage(const PlaneShape& g, ConstDenseView x, int64_t n, float* xp) {
  std::fill(xp, xp + g.image_floats(), 0.0f);
  for (int64_t c = 0; c < g.C; ++c) {
    const float* plane = x.row(c) + n * g.H * g.W;
    float* dst = xp + (c * g.Hp + g.pad_h) * g.Wp + g.pad_w;
    for (int64_t h = 0; h < g.H; ++h) std::memcpy(dst + h * g.Wp, plane + h * g.W, sizeof(float) * g.W);
  }
}

// Output positions [i0, i0 + 16 V) of channels [8 b, 8 b + 8) of image n: 8 x V accumulators over every tap, then
// the valid positions (q < Q, i < positions) stored, bias and ReLU applied, or added into y (accumulate).
template <int V>
ENGINE_CP_INLINE void Tile(const PlaneShape& g, const float* wt, const float* xp, const int64_t* offsets, int64_t n,
                           int64_t b, int64_t i0, DenseView y, const float* bias, bool relu, bool accumulate) {
  V16 acc[kBlock][V];
  for (int kb = 0; kb < kBlock; ++kb) {
    for (int v = 0; v < V; ++v) acc[kb][v] = V16{};
  }
  const float* wb = wt + b * g.taps() * kBlock;
  const float* base = xp + i0;
  for (int64_t t = 0; t < g.taps(); ++t) {
    V16 in[V];
    for (int v = 0; v < V; ++v) in[v] = LoadV16(base + offsets[t] + kLanes * v);
    const float* wv = wb + t * kBlock;
    for (int kb = 0; kb < kBlock; ++kb) {
      const V16 w = V16{} + wv[kb];
      for (int v = 0; v < V; ++v) acc[kb][v] += w * in[v];
    }
  }
  const int64_t i1 = std::min(i0 + V * kLanes, g.positions());
  const int kb_end = static_cast<int>(std::min<int64_t>(kBlock, g.K - b * kBlock));
  for (int kb = 0; kb < kb_end; ++kb) {
    alignas(64) float out[V * kLanes];
    for (int v = 0; v < V; ++v) StoreV16(out + kLanes * v, acc[kb][v]);
    const int64_t k = b * kBlock + kb;
    float* yk = y.row(k) + n * g.P * g.Q;
    const float bk = bias != nullptr ? bias[k] : 0.0f;
    // The valid runs of each output row p that meets [i0, i1).
    for (int64_t p = i0 / g.Wp; p * g.Wp < i1; ++p) {
      const int64_t lo = std::max(i0, p * g.Wp), hi = std::min(i1, p * g.Wp + g.Q);
      const float* src = out + (lo - i0);
      float* dst = yk + p * g.Q + (lo - p * g.Wp);
      const int64_t len = hi - lo;
      if (accumulate) {
        for (int64_t j = 0; j < len; ++j) dst[j] += src[j];
      } else if (relu) {
        for (int64_t j = 0; j < len; ++j) dst[j] = std::max(src[j] + bk, 0.0f);
      } else {
        for (int64_t j = 0; j < len; ++j) dst[j] = src[j] + bk;
      }
    }
  }
}

// Image n: tiles of kTileVectors vectors (the last one shorter), each over every channel block in turn, so the
// tile's input window stays in L1 while the blocks reuse it.
ENGINE_CP_INLINE void ImageBody(const PlaneShape& g, const float* wt, const float* xp, const int64_t* offsets,
                                int64_t n, DenseView y, const float* bias, bool relu, bool accumulate) {
  const int64_t vectors = (g.positions() + kLanes - 1) / kLanes;
  for (int64_t v0 = 0; v0 < vectors; v0 += kTileVectors) {
    const int64_t i0 = v0 * kLanes;
    const int64_t v = std::min<int64_t>(kTileVectors, vectors - v0);
    for (int64_t b = 0; b < g.blocks(); ++b) {
      switch (v) {
        case 1: Tile<1>(g, wt, xp, offsets, n, b, i0, y, bias, relu, accumulate); break;
        case 2: Tile<2>(g, wt, xp, offsets, n, b, i0, y, bias, relu, accumulate); break;
        default: Tile<3>(g, wt, xp, offsets, n, b, i0, y, bias, relu, accumulate); break;
      }
    }
  }
}

// Weight gradient, one task = output channels [k0, k0 + 4) x taps [t0, t0 + TB), over images [n0, n1): 4 x TB
// vectors of per-lane partial sums over every plane position of those images, then each summed over its lanes in
// ascending order and added to d_w. dyp: dY laid out as [N][K4][Lv] plane positions (zero at the q >= Q columns and
// past the last position, so the junk positions add 0); xpads: [N] padded images.
template <int TB>
ENGINE_CP_INLINE void GradTask(const PlaneShape& g, const float* dyp, const float* xpads, const int64_t* offsets,
                               int64_t k0, int64_t t0, int64_t n0, int64_t n1, DenseView d_w) {
  constexpr int KB = kGradChannels;
  const int64_t Lv = GradRow(g), K4 = GradChannels4(g);
  V16 acc[KB][TB];
  for (int kb = 0; kb < KB; ++kb) {
    for (int tb = 0; tb < TB; ++tb) acc[kb][tb] = V16{};
  }
  for (int64_t n = n0; n < n1; ++n) {
    const float* dn = dyp + (n * K4 + k0) * Lv;
    const float* xn = xpads + n * g.image_floats();
    for (int64_t i = 0; i < Lv; i += kLanes) {
      V16 d[KB];
      for (int kb = 0; kb < KB; ++kb) d[kb] = LoadV16(dn + kb * Lv + i);
      for (int tb = 0; tb < TB; ++tb) {
        const V16 xv = LoadV16(xn + offsets[t0 + tb] + i);
        for (int kb = 0; kb < KB; ++kb) acc[kb][tb] += d[kb] * xv;
      }
    }
  }
  const int kb_end = static_cast<int>(std::min<int64_t>(KB, g.K - k0));
  for (int kb = 0; kb < kb_end; ++kb) {
    for (int tb = 0; tb < TB; ++tb) {
      alignas(64) float lanes[kLanes];
      StoreV16(lanes, acc[kb][tb]);
      float total = 0.0f;
      for (int64_t l = 0; l < kLanes; ++l) total += lanes[l];  // ascending lanes: a fixed order
      d_w.row(k0 + kb)[t0 + tb] += total;
    }
  }
}

ENGINE_CP_INLINE void GradTaskBody(const PlaneShape& g, const float* dyp, const float* xpads, const int64_t* offsets,
                                   int64_t task, int64_t n0, int64_t n1, DenseView d_w) {
  const int64_t tap_blocks = (g.taps() + kGradTaps - 1) / kGradTaps;
  const int64_t k0 = task / tap_blocks * kGradChannels, t0 = task % tap_blocks * kGradTaps;
  if (t0 + kGradTaps <= g.taps()) return GradTask<kGradTaps>(g, dyp, xpads, offsets, k0, t0, n0, n1, d_w);
  for (int64_t t = t0; t < g.taps(); ++t) GradTask<1>(g, dyp, xpads, offsets, k0, t, n0, n1, d_w);
}

template <Isa kIsa>
void GradTaskIsa(const PlaneShape& g, const float* dyp, const float* xpads, const int64_t* offsets, int64_t task,
                 int64_t n0, int64_t n1, DenseView d_w);

template <Isa kIsa>
void ImageIsa(const PlaneShape& g, const float* wt, const float* xp, const int64_t* offsets, int64_t n, DenseView y,
              const float* bias, bool relu, bool accumulate);

#define ENGINE_CP_ISA(TARGET, ISA)                                                                                \
  template <>                                                                                                     \
  TARGET void ImageIsa<ISA>(const PlaneShape& g, const float* wt, const float* xp, const int64_t* offsets,        \
                            int64_t n, DenseView y, const float* bias, bool relu, bool accumulate) {              \
    ImageBody(g, wt, xp, offsets, n, y, bias, relu, accumulate);                                                  \
  }                                                                                                               \
  template <>                                                                                                     \
  TARGET void GradTaskIsa<ISA>(const PlaneShape& g, const float* dyp, const float* xpads, const int64_t* offsets, \
                               int64_t task, int64_t n0, int64_t n1, DenseView d_w) {                             \
    GradTaskBody(g, dyp, xpads, offsets, task, n0, n1, d_w);                                                      \
  }

ENGINE_CP_ISA(ENGINE_TARGET_AVX512, Isa::kAvx512)
ENGINE_CP_ISA(ENGINE_TARGET_AVX2, Isa::kAvx2)
ENGINE_CP_ISA(, Isa::kPortable)

#undef ENGINE_CP_ISA

// The convolution of x [C, N*H*W] into y [K, N*P*Q] under repacked weights wt [blocks][taps][8] (zeros past K).
void Run(const PlaneShape& g, const AlignedVector<float>& wt, ConstDenseView x, DenseView y, const float* bias,
         bool relu, bool accumulate) {
  const std::vector<int64_t> offsets = TapOffsets(g);
  const Isa isa = ActiveIsa();
  AlignedVector<float> scratch(static_cast<size_t>(g.image_floats() * omp_get_max_threads()));
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < g.N; ++n) {
    float* xp = scratch.data() + g.image_floats() * omp_get_thread_num();
    PadImage(g, x, n, xp);
    switch (isa) {
      case Isa::kAvx512: ImageIsa<Isa::kAvx512>(g, wt.data(), xp, offsets.data(), n, y, bias, relu, accumulate); break;
      case Isa::kAvx2: ImageIsa<Isa::kAvx2>(g, wt.data(), xp, offsets.data(), n, y, bias, relu, accumulate); break;
      case Isa::kPortable:
        ImageIsa<Isa::kPortable>(g, wt.data(), xp, offsets.data(), n, y, bias, relu, accumulate);
        break;
    }
  }
}

double ProductFlops(const Conv2dParams& cp) {
  return 2.0 * static_cast<double>(cp.out_channels * cp.filter_size() * cp.batch * cp.out_h() * cp.out_w());
}

}  // namespace

bool UseDirectPlaneConv2d(const Conv2dParams& cp) {
  if (cp.stride != 1 || cp.IsPointwise() || cp.in_channels < kMinChannels) return false;
  const PlaneShape g = ForwardShape(cp);
  return Fits(g) && static_cast<double>(g.P * g.Q) >= kMinUseful * static_cast<double>(GradRow(g));
}

bool UseDirectPlaneConv2dBackwardInput(const Conv2dParams& cp) {
  return UseDirectPlaneConv2d(cp) && cp.pad <= cp.kernel_h - 1 && cp.pad <= cp.kernel_w - 1 &&
         Fits(FlippedShape(cp));
}

void DirectPlaneConv2dForward(const Conv2dParams& cp, ConstDenseView w, ConstDenseView x, DenseView y,
                              const float* bias, bool relu) {
  const PlaneShape g = ForwardShape(cp);
  // wt[b][t][kb] = w[8 b + kb, t].
  AlignedVector<float> wt(static_cast<size_t>(g.blocks() * g.taps() * kBlock), 0.0f);
  for (int64_t k = 0; k < g.K; ++k) {
    for (int64_t t = 0; t < g.taps(); ++t) wt[((k / kBlock) * g.taps() + t) * kBlock + k % kBlock] = w.row(k)[t];
  }
  Run(g, wt, x, y, bias, relu, /*accumulate=*/false);
  FlopCounter::Add(ProductFlops(cp) +
                   ((bias != nullptr ? 1.0 : 0.0) + (relu ? 1.0 : 0.0)) * static_cast<double>(y.rows * y.cols));
}

void DirectPlaneConv2dBackwardInput(const Conv2dParams& cp, ConstDenseView w, ConstDenseView d_y, DenseView d_x) {
  const PlaneShape g = FlippedShape(cp);  // g.C = K (dY's channels), g.K = C (dX's channels)
  const int64_t R = cp.kernel_h, S = cp.kernel_w;
  // wt[b][(k, r, s)][cb] = w[k, (8 b + cb, R-1-r, S-1-s)].
  AlignedVector<float> wt(static_cast<size_t>(g.blocks() * g.taps() * kBlock), 0.0f);
  for (int64_t c = 0; c < g.K; ++c) {
    for (int64_t k = 0; k < g.C; ++k) {
      for (int64_t r = 0; r < R; ++r) {
        for (int64_t s = 0; s < S; ++s) {
          const int64_t t = (k * R + r) * S + s;
          wt[((c / kBlock) * g.taps() + t) * kBlock + c % kBlock] = w.row(k)[(c * R + (R - 1 - r)) * S + (S - 1 - s)];
        }
      }
    }
  }
  Run(g, wt, d_y, d_x, nullptr, false, /*accumulate=*/true);
  FlopCounter::Add(ProductFlops(cp));
}

void DirectPlaneConv2dBackwardWeight(const Conv2dParams& cp, ConstDenseView d_y, ConstDenseView x, DenseView d_w) {
  const PlaneShape g = ForwardShape(cp);
  const int64_t Lv = GradRow(g), K4 = GradChannels4(g);
  const std::vector<int64_t> offsets = TapOffsets(g);
  // Every image padded once, and dY as plane positions (zeros at the discarded columns, past the end, and in the
  // channels up to a multiple of 4).
  AlignedVector<float> xpads(static_cast<size_t>(g.N * g.image_floats()));
  AlignedVector<float> dyp(static_cast<size_t>(g.N * K4 * Lv));
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < g.N; ++n) {
    PadImage(g, x, n, xpads.data() + n * g.image_floats());
    float* dn = dyp.data() + n * K4 * Lv;
    std::fill(dn, dn + K4 * Lv, 0.0f);
    for (int64_t k = 0; k < g.K; ++k) {
      const float* src = d_y.row(k) + n * g.P * g.Q;
      for (int64_t p = 0; p < g.P; ++p) std::memcpy(dn + k * Lv + p * g.Wp, src + p * g.Q, sizeof(float) * g.Q);
    }
  }
  const int64_t per_image_bytes = static_cast<int64_t>(sizeof(float)) * (g.image_floats() + K4 * Lv);
  const int64_t chunk = std::clamp<int64_t>(
      std::max<int64_t>(kGradChunkBytes / per_image_bytes, (kGradChunkPositions + Lv - 1) / Lv), 1, g.N);
  const int64_t tasks = (K4 / kGradChannels) * ((g.taps() + kGradTaps - 1) / kGradTaps);
  const Isa isa = ActiveIsa();
  // Chunks outer, so a chunk's data stays in cache while the thread runs its tasks over it; the static schedule
  // gives each thread the same tasks in every chunk, so each element of d_w has one writer and adds its chunk sums
  // in ascending chunk order whatever the thread count.
#pragma omp parallel
  for (int64_t n0 = 0; n0 < g.N; n0 += chunk) {
    const int64_t n1 = std::min(g.N, n0 + chunk);
#pragma omp for schedule(static) nowait
    for (int64_t task = 0; task < tasks; ++task) {
      switch (isa) {
        case Isa::kAvx512: GradTaskIsa<Isa::kAvx512>(g, dyp.data(), xpads.data(), offsets.data(), task, n0, n1, d_w); break;
        case Isa::kAvx2: GradTaskIsa<Isa::kAvx2>(g, dyp.data(), xpads.data(), offsets.data(), task, n0, n1, d_w); break;
        case Isa::kPortable:
          GradTaskIsa<Isa::kPortable>(g, dyp.data(), xpads.data(), offsets.data(), task, n0, n1, d_w);
          break;
      }
    }
  }
  FlopCounter::Add(ProductFlops(cp));
}

}  // namespace engine::kernels::internal
