// Direct few-channel convolution (see conv2d_direct.h).
#include "engine/kernels/conv2d_direct.h"

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

#define ENGINE_CD_INLINE inline __attribute__((always_inline))

constexpr int64_t kLanes = 16;   // q runs over whole 16-float vectors
constexpr int64_t kMaxChannels = 8;
constexpr int64_t kMaxRow = 64;  // Q <= 64: at most 4 vectors per output row
constexpr int kChannelBlock = 4; // output channels accumulated together in the forward
constexpr int kTapBlock = 8;     // filter taps accumulated together in the weight gradient


struct DirectShape {
  int64_t N, C, H, W, K, R, S, pad, P, Q;
  int64_t Hp, Wa, Qv;  // padded copy: Hp rows of Wa floats per channel; Q rounded up to whole vectors
  int64_t image_floats() const { return C * Hp * Wa; }
  int64_t taps() const { return C * R * S; }
  // Offset of tap (c, r, s) in an image's padded copy: the input of output (p, q) is at p * Wa + q + offset.
  int64_t TapOffset(int64_t t) const {
    const int64_t c = t / (R * S), r = (t / S) % R, s = t % S;
    return (c * Hp + r) * Wa + s;
  }
};

DirectShape ShapeOf(const Conv2dParams& cp) {
  DirectShape g;
  g.N = cp.batch, g.C = cp.in_channels, g.H = cp.in_h, g.W = cp.in_w, g.K = cp.out_channels;
  g.R = cp.kernel_h, g.S = cp.kernel_w, g.pad = cp.pad, g.P = cp.out_h(), g.Q = cp.out_w();
  g.Qv = (g.Q + kLanes - 1) / kLanes * kLanes;
  g.Hp = g.H + 2 * g.pad;
  g.Wa = std::max(g.W + 2 * g.pad, g.Qv + g.S - 1);
  return g;
}

// xp[c, pad + h, pad + w] = x[c, n, h, w]; zero elsewhere.
void PadImage(const DirectShape& g, ConstDenseView x, int64_t n, float* xp) {
  std::fill(xp, xp + g.image_floats(), 0.0f);
  for (int64_t c = 0; c < g.C; ++c) {
    const float* plane = x.row(c) + n * g.H * g.W;
    for (int64_t h = 0; h < g.H; ++h) {
      std::memcpy(xp + (c * g.Hp + g.pad + h) * g.Wa + g.pad, plane + h * g.W, sizeof(float) * g.W);
    }
  }
}

// Output row p of channels [k0, k0 + KB) of image n: KB x V accumulators in registers, every tap's V input vectors
// loaded once and used by KB broadcast weights.
template <int V, int KB>
ENGINE_CD_INLINE void ForwardRow(const DirectShape& g, ConstDenseView w, const float* xp, const int64_t* offsets,
                                 int64_t n, int64_t p, int64_t k0, DenseView y, const float* bias, bool relu) {
  V16 acc[KB][V];
  for (int kb = 0; kb < KB; ++kb) {
    for (int v = 0; v < V; ++v) acc[kb][v] = V16{};
  }
  const float* base = xp + p * g.Wa;
  for (int64_t t = 0; t < g.taps(); ++t) {
    V16 in[V];
    for (int v = 0; v < V; ++v) in[v] = LoadV16(base + offsets[t] + kLanes * v);
    for (int kb = 0; kb < KB; ++kb) {
      const V16 wv = V16{} + w.row(k0 + kb)[t];
      for (int v = 0; v < V; ++v) acc[kb][v] += wv * in[v];
    }
  }
  for (int kb = 0; kb < KB; ++kb) {
    alignas(64) float out[V * kLanes];
    for (int v = 0; v < V; ++v) StoreV16(out + kLanes * v, acc[kb][v]);
    float* yr = y.row(k0 + kb) + (n * g.P + p) * g.Q;
    const float b = bias != nullptr ? bias[k0 + kb] : 0.0f;
    if (relu) {
      for (int64_t q = 0; q < g.Q; ++q) yr[q] = std::max(out[q] + b, 0.0f);
    } else {
      for (int64_t q = 0; q < g.Q; ++q) yr[q] = out[q] + b;
    }
  }
}

// Image n (padded copy xp): every row, channels in blocks of kChannelBlock, then one at a time.
template <int V>
ENGINE_CD_INLINE void ForwardImage(const DirectShape& g, ConstDenseView w, const float* xp, const int64_t* offsets,
                                   int64_t n, DenseView y, const float* bias, bool relu) {
  for (int64_t p = 0; p < g.P; ++p) {
    int64_t k = 0;
    for (; k + kChannelBlock <= g.K; k += kChannelBlock) {
      ForwardRow<V, kChannelBlock>(g, w, xp, offsets, n, p, k, y, bias, relu);
    }
    for (; k < g.K; ++k) ForwardRow<V, 1>(g, w, xp, offsets, n, p, k, y, bias, relu);
  }
}

// d_w[k, t0 : t0 + TB) += sum over images and rows of dy[k, n, p, :] . xpad[n, tap, p, :]: TB x V accumulators in
// registers, then each tap's lanes summed in a fixed order. dy: [K, N, P, Qv] zero beyond Q; xpads: N padded images.
template <int V, int TB>
ENGINE_CD_INLINE void WeightGradTaps(const DirectShape& g, const float* dy, const float* xpads, const int64_t* offsets,
                                     int64_t k, int64_t t0, DenseView d_w) {
  V16 acc[TB][V];
  for (int tb = 0; tb < TB; ++tb) {
    for (int v = 0; v < V; ++v) acc[tb][v] = V16{};
  }
  for (int64_t n = 0; n < g.N; ++n) {
    const float* xn = xpads + n * g.image_floats();
    const float* dn = dy + (k * g.N + n) * g.P * g.Qv;
    for (int64_t p = 0; p < g.P; ++p) {
      V16 d[V];
      for (int v = 0; v < V; ++v) d[v] = LoadV16(dn + p * g.Qv + kLanes * v);
      const float* base = xn + p * g.Wa;
      for (int tb = 0; tb < TB; ++tb) {
        const float* in = base + offsets[t0 + tb];
        for (int v = 0; v < V; ++v) acc[tb][v] += d[v] * LoadV16(in + kLanes * v);
      }
    }
  }
  for (int tb = 0; tb < TB; ++tb) {
    V16 sum = acc[tb][0];
    for (int v = 1; v < V; ++v) sum += acc[tb][v];
    alignas(64) float lanes[kLanes];
    StoreV16(lanes, sum);
    float total = 0.0f;
    for (int64_t i = 0; i < kLanes; ++i) total += lanes[i];  // ascending lanes: a fixed order
    d_w.row(k)[t0 + tb] += total;
  }
}

template <int V>
ENGINE_CD_INLINE void WeightGradChannelTaps(const DirectShape& g, const float* dy, const float* xpads,
                                            const int64_t* offsets, int64_t k, int64_t t0, DenseView d_w) {
  if (t0 + kTapBlock <= g.taps()) return WeightGradTaps<V, kTapBlock>(g, dy, xpads, offsets, k, t0, d_w);
  for (int64_t t = t0; t < g.taps(); ++t) WeightGradTaps<V, 1>(g, dy, xpads, offsets, k, t, d_w);
}

#define ENGINE_CD_BY_VECTORS(FN, V, ...) \
  do {                                   \
    switch (V) {                         \
      case 1: FN<1>(__VA_ARGS__); break; \
      case 2: FN<2>(__VA_ARGS__); break; \
      case 3: FN<3>(__VA_ARGS__); break; \
      default: FN<4>(__VA_ARGS__); break; \
    }                                    \
  } while (0)

template <Isa kIsa>
void ForwardImageIsa(const DirectShape& g, ConstDenseView w, const float* xp, const int64_t* offsets, int64_t n,
                     DenseView y, const float* bias, bool relu);
template <Isa kIsa>
void WeightGradTapsIsa(const DirectShape& g, const float* dy, const float* xpads, const int64_t* offsets, int64_t k,
                       int64_t t0, DenseView d_w);

#define ENGINE_CD_ISA(TARGET, ISA)                                                                              \
  template <>                                                                                                   \
  TARGET void ForwardImageIsa<ISA>(const DirectShape& g, ConstDenseView w, const float* xp,                     \
                                   const int64_t* offsets, int64_t n, DenseView y, const float* bias,           \
                                   bool relu) {                                                                 \
    ENGINE_CD_BY_VECTORS(ForwardImage, g.Qv / kLanes, g, w, xp, offsets, n, y, bias, relu);                     \
  }                                                                                                             \
  template <>                                                                                                   \
  TARGET void WeightGradTapsIsa<ISA>(const DirectShape& g, const float* dy, const float* xpads,                 \
                                     const int64_t* offsets, int64_t k, int64_t t0, DenseView d_w) {            \
    ENGINE_CD_BY_VECTORS(WeightGradChannelTaps, g.Qv / kLanes, g, dy, xpads, offsets, k, t0, d_w);              \
  }

ENGINE_CD_ISA(ENGINE_TARGET_AVX512, Isa::kAvx512)
ENGINE_CD_ISA(ENGINE_TARGET_AVX2, Isa::kAvx2)
ENGINE_CD_ISA(, Isa::kPortable)

#undef ENGINE_CD_ISA
#undef ENGINE_CD_BY_VECTORS

std::vector<int64_t> TapOffsets(const DirectShape& g) {
  std::vector<int64_t> offsets(static_cast<size_t>(g.taps()));
  for (int64_t t = 0; t < g.taps(); ++t) offsets[t] = g.TapOffset(t);
  return offsets;
}

double ProductFlops(const Conv2dParams& cp) {
  return 2.0 * static_cast<double>(cp.out_channels * cp.filter_size() * cp.batch * cp.out_h() * cp.out_w());
}

}  // namespace

bool UseDirectConv2d(const Conv2dParams& cp) {
  return cp.stride == 1 && !cp.IsPointwise() && cp.in_channels <= kMaxChannels && cp.out_w() <= kMaxRow;
}

void DirectConv2dForward(const Conv2dParams& cp, ConstDenseView w, ConstDenseView x, DenseView y, const float* bias,
                         bool relu) {
  const DirectShape g = ShapeOf(cp);
  const Isa isa = ActiveIsa();
  const std::vector<int64_t> offsets = TapOffsets(g);
  AlignedVector<float> scratch(static_cast<size_t>(g.image_floats() * omp_get_max_threads()));
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < g.N; ++n) {
    float* xp = scratch.data() + g.image_floats() * omp_get_thread_num();
    PadImage(g, x, n, xp);
    switch (isa) {
      case Isa::kAvx512: ForwardImageIsa<Isa::kAvx512>(g, w, xp, offsets.data(), n, y, bias, relu); break;
      case Isa::kAvx2: ForwardImageIsa<Isa::kAvx2>(g, w, xp, offsets.data(), n, y, bias, relu); break;
      case Isa::kPortable: ForwardImageIsa<Isa::kPortable>(g, w, xp, offsets.data(), n, y, bias, relu); break;
    }
  }
  FlopCounter::Add(ProductFlops(cp) +
                   ((bias != nullptr ? 1.0 : 0.0) + (relu ? 1.0 : 0.0)) * static_cast<double>(y.rows * y.cols));
}

void DirectConv2dBackwardWeight(const Conv2dParams& cp, ConstDenseView d_y, ConstDenseView x, DenseView d_w) {
  const DirectShape g = ShapeOf(cp);
  const Isa isa = ActiveIsa();
  const std::vector<int64_t> offsets = TapOffsets(g);
  // Every image padded once, and dY with its rows padded to whole vectors (zeros beyond Q, so the extra lanes add 0).
  AlignedVector<float> xpads(static_cast<size_t>(g.N * g.image_floats()));
  AlignedVector<float> dy(static_cast<size_t>(g.K * g.N * g.P * g.Qv));
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < g.N; ++n) PadImage(g, x, n, xpads.data() + n * g.image_floats());
#pragma omp parallel for schedule(static)
  for (int64_t kn = 0; kn < g.K * g.N; ++kn) {
    const int64_t k = kn / g.N, n = kn % g.N;
    float* out = dy.data() + kn * g.P * g.Qv;
    for (int64_t p = 0; p < g.P; ++p) {
      std::memcpy(out + p * g.Qv, d_y.row(k) + (n * g.P + p) * g.Q, sizeof(float) * g.Q);
      std::fill(out + p * g.Qv + g.Q, out + (p + 1) * g.Qv, 0.0f);
    }
  }
  // Tasks: (output channel, block of kTapBlock taps); each weight element belongs to one task.
  const int64_t blocks = (g.taps() + kTapBlock - 1) / kTapBlock;
#pragma omp parallel for schedule(static)
  for (int64_t task = 0; task < g.K * blocks; ++task) {
    const int64_t k = task / blocks, t0 = (task % blocks) * kTapBlock;
    switch (isa) {
      case Isa::kAvx512: WeightGradTapsIsa<Isa::kAvx512>(g, dy.data(), xpads.data(), offsets.data(), k, t0, d_w); break;
      case Isa::kAvx2: WeightGradTapsIsa<Isa::kAvx2>(g, dy.data(), xpads.data(), offsets.data(), k, t0, d_w); break;
      case Isa::kPortable:
        WeightGradTapsIsa<Isa::kPortable>(g, dy.data(), xpads.data(), offsets.data(), k, t0, d_w);
        break;
    }
  }
  FlopCounter::Add(ProductFlops(cp));
}

}  // namespace engine::kernels::internal
