// Depthwise convolution kernels (see depthwise_conv2d.h): plane-at-a-time loops written once and compiled for
// each ISA, plus the direct-loop Naive twins.
#include "engine/kernels/depthwise_conv2d.h"

#include <algorithm>
#include <vector>

#include "engine/base/check.h"
#include "engine/base/cpu.h"
#include "engine/base/flop_counter.h"
#include "engine/kernels/isa_target.h"

// The plane loops are inlined into each ISA's entry so the vectorizer sees them with that ISA's registers.
#define ENGINE_DW_INLINE inline __attribute__((always_inline))
#define ENGINE_DW_LAMBDA_INLINE __attribute__((always_inline))

namespace engine::kernels {
namespace {

using internal::ValidRange;

// One plane's geometry: the input plane (in_h x in_w) a correlation reads and the output plane it writes.
struct PlaneShape {
  int64_t in_h, in_w, out_h, out_w, kernel_h, kernel_w, stride, pad_h, pad_w;
};

PlaneShape ForwardShape(const Conv2dParams& cp) {
  return {cp.in_h, cp.in_w, cp.out_h(), cp.out_w(), cp.kernel_h, cp.kernel_w, cp.stride, cp.pad, cp.pad};
}

// y_row[q] += sum_s w[s] * x_row[q*st + s - pad] over the taps inside [0, in_w). kS / kSt: the filter width and
// stride when known at compile time (0: read from g).
template <int kS, int kSt>
ENGINE_DW_INLINE void RowTaps(const float* x_row, const float* w, const PlaneShape& g, float* y_row) {
  const int64_t S = kS > 0 ? kS : g.kernel_w, st = kSt > 0 ? kSt : g.stride;
  const int64_t pad = g.pad_w, W = g.in_w, Q = g.out_w;
  // Interior: every tap inside the row (first tap column q*st - pad in [0, W - S + 1)).
  int64_t lo, hi;
  ValidRange(pad, st, W - S + 1, Q, &lo, &hi);
  auto edge = [&](int64_t q) {
    float acc = y_row[q];
    for (int64_t s = 0; s < S; ++s) {
      const int64_t col = q * st + s - pad;
      if (col >= 0 && col < W) acc += w[s] * x_row[col];
    }
    y_row[q] = acc;
  };
  for (int64_t q = 0; q < lo; ++q) edge(q);
  if (hi > lo) {
    const float* xb = x_row + (lo * st - pad);
    float* yb = y_row + lo;
    const int64_t n = hi - lo;
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) {
      float acc = yb[i];
      for (int64_t s = 0; s < S; ++s) acc += w[s] * xb[i * st + s];
      yb[i] = acc;
    }
  }
  for (int64_t q = hi; q < Q; ++q) edge(q);
}

// y (+)= correlation of the plane x with the R x S filter w, per g.
template <int kS, int kSt>
ENGINE_DW_INLINE void TapsPlane(const float* x, const float* w, const PlaneShape& g, float* y, bool accumulate) {
  const int64_t S = kS > 0 ? kS : g.kernel_w, st = kSt > 0 ? kSt : g.stride;
  for (int64_t p = 0; p < g.out_h; ++p) {
    float* y_row = y + p * g.out_w;
    if (!accumulate) std::fill(y_row, y_row + g.out_w, 0.0f);
    for (int64_t r = 0; r < g.kernel_h; ++r) {
      const int64_t h = p * st + r - g.pad_h;
      if (h >= 0 && h < g.in_h) RowTaps<kS, kSt>(x + h * g.in_w, w + r * S, g, y_row);
    }
  }
}

// Calls tap(p, h, r, s, lo, hi) for every output row p, every filter row r whose input row h = p*st + r - pad lies
// inside the plane, and every filter column s, with the output columns [lo, hi) whose input column q*st + s - pad
// lies inside the row. tap must be ENGINE_DW_INLINE too, so it is compiled with the caller's ISA.
template <int kS, int kSt, typename Tap>
ENGINE_DW_INLINE void ForEachRowTap(const PlaneShape& g, const Tap& tap) {
  const int64_t S = kS > 0 ? kS : g.kernel_w, st = kSt > 0 ? kSt : g.stride;
  for (int64_t p = 0; p < g.out_h; ++p) {
    for (int64_t r = 0; r < g.kernel_h; ++r) {
      const int64_t h = p * st + r - g.pad_h;
      if (h < 0 || h >= g.in_h) continue;
      for (int64_t s = 0; s < S; ++s) {
        int64_t lo, hi;
        ValidRange(g.pad_w - s, st, g.in_w, g.out_w, &lo, &hi);
        tap(p, h, r, s, lo, hi);
      }
    }
  }
}

// d_x += the transpose of the forward correlation g describes, as a scatter: each d_y row adds w[r, s] * d_y[q]
// into d_x[h, q*st + s - pad]. Within one tap the targets are distinct, so each tap's loop vectorizes.
template <int kS, int kSt>
ENGINE_DW_INLINE void ScatterPlane(const float* d_y, const float* w, const PlaneShape& g, float* d_x) {
  const int64_t S = kS > 0 ? kS : g.kernel_w, st = kSt > 0 ? kSt : g.stride;
  ForEachRowTap<kS, kSt>(g, [&](int64_t p, int64_t h, int64_t r, int64_t s, int64_t lo, int64_t hi)
                                ENGINE_DW_LAMBDA_INLINE {
    const float* dy_row = d_y + p * g.out_w;
    const float ws = w[r * S + s];
    float* dxb = d_x + h * g.in_w + (s - g.pad_w);
#pragma omp simd
    for (int64_t q = lo; q < hi; ++q) dxb[q * st] += ws * dy_row[q];
  });
}

// acc[r*S + s] += sum over the plane's outputs of d_y[p, q] * x[p*st + r - pad, q*st + s - pad]: one float dot
// product per (row, tap), added in double.
template <int kS, int kSt>
ENGINE_DW_INLINE void WeightGradPlane(const float* d_y, const float* x, const PlaneShape& g, double* acc) {
  const int64_t S = kS > 0 ? kS : g.kernel_w, st = kSt > 0 ? kSt : g.stride;
  ForEachRowTap<kS, kSt>(g, [&](int64_t p, int64_t h, int64_t r, int64_t s, int64_t lo, int64_t hi)
                                ENGINE_DW_LAMBDA_INLINE {
    const float* dy_row = d_y + p * g.out_w;
    const float* xb = x + h * g.in_w + (s - g.pad_w);
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int64_t q = lo; q < hi; ++q) sum += dy_row[q] * xb[q * st];
    acc[r * S + s] += sum;
  });
}

// MobileNet's 3x3 stride-1 'same' case (pad 1, output plane = input plane) on the flattened plane: output i = p*W + q
// reads x[i + d] with d = (r-1)*W + (s-1), so the whole plane is one contiguous vector loop of 9 multiply-adds, with
// no per-row borders (small planes: 7x7, 14x14). The left taps (s = 0) of q = 0 would read the previous row's last
// column and the right taps (s = 2) of q = W-1 the next row's first, so those taps read copies of x whose last or
// first column is zero; the copies sit between zero margins that stand for the rows above and below.
bool Is3x3Same(const PlaneShape& g) {
  return g.kernel_h == 3 && g.kernel_w == 3 && g.stride == 1 && g.pad_h == 1 && g.pad_w == 1 &&
         g.out_h == g.in_h && g.out_w == g.in_w;
}

// The three margined copies of x the flattened 3x3 'same' paths read (see Taps3x3Same): xa with its last column zeroed
// (read by the left taps), xm as is, xb with its first column zeroed (the right taps), each between W + 1 zeros that
// stand for the rows above and below. Returns xa; xm = xa + stride, xb = xm + stride (MarginedStride).
int64_t MarginedStride(const PlaneShape& g) { return g.in_h * g.in_w + 2 * (g.in_w + 1); }

ENGINE_DW_INLINE float* MarginedCopies(const float* x, const PlaneShape& g, float* scratch) {
  const int64_t W = g.in_w, n = g.in_h * W, margin = W + 1, stride = MarginedStride(g);
  float* xa = scratch + margin;
  for (int k = 0; k < 3; ++k) {
    float* c = xa + k * stride;
    std::fill(c - margin, c, 0.0f);
    std::copy(x, x + n, c);
    std::fill(c + n, c + n + margin, 0.0f);
  }
  for (int64_t p = 0; p < g.in_h; ++p) xa[p * W + W - 1] = 0.0f, xa[2 * stride + p * W] = 0.0f;
  return xa;
}

ENGINE_DW_INLINE void Taps3x3Same(const float* x, const float* w, const PlaneShape& g, float* y, bool accumulate,
                                 float* scratch) {
  const int64_t W = g.in_w, n = g.in_h * W, stride = MarginedStride(g);
  const float* xa = MarginedCopies(x, g, scratch);
  const float* xm = xa + stride;
  const float* xb = xm + stride;
  const float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6], w7 = w[7], w8 = w[8];
  const float *a0 = xa - W - 1, *b0 = xm - W, *c0 = xb - W + 1;  // row r = 0
  const float *a1 = xa - 1, *c1 = xb + 1;                         // row r = 1 (b: xm itself)
  const float *a2 = xa + W - 1, *b2 = xm + W, *c2 = xb + W + 1;  // row r = 2
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    float acc = accumulate ? y[i] : 0.0f;
    acc += w0 * a0[i];
    acc += w1 * b0[i];
    acc += w2 * c0[i];
    acc += w3 * a1[i];
    acc += w4 * xm[i];
    acc += w5 * c1[i];
    acc += w6 * a2[i];
    acc += w7 * b2[i];
    acc += w8 * c2[i];
    y[i] = acc;
  }
}

// The same case on wide planes (W >= kWideRow), row by row: each output row reads its three input rows once (a row
// of zeros stands in for the rows above and below the plane) and is written once; its two border columns are
// computed apart. Keeps the working set at four rows, where the flattened form's three plane copies leave L1.
constexpr int64_t kWideRow = 24;

ENGINE_DW_INLINE void Taps3x3SameRows(const float* x, const float* w, const PlaneShape& g, float* y, bool accumulate,
                                     float* zeros) {
  const int64_t H = g.in_h, W = g.in_w;
  const float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6], w7 = w[7], w8 = w[8];
  for (int64_t p = 0; p < H; ++p) {
    const float* r0 = p > 0 ? x + (p - 1) * W : zeros;
    const float* r1 = x + p * W;
    const float* r2 = p + 1 < H ? x + (p + 1) * W : zeros;
    float* out = y + p * W;
    const float left = (accumulate ? out[0] : 0.0f) + w1 * r0[0] + w2 * r0[1] + w4 * r1[0] + w5 * r1[1] +
                       w7 * r2[0] + w8 * r2[1];
    const int64_t e = W - 1;
    const float right = (accumulate ? out[e] : 0.0f) + w0 * r0[e - 1] + w1 * r0[e] + w3 * r1[e - 1] + w4 * r1[e] +
                        w6 * r2[e - 1] + w7 * r2[e];
#pragma omp simd
    for (int64_t q = 1; q < e; ++q) {
      float acc = accumulate ? out[q] : 0.0f;
      acc += w0 * r0[q - 1];
      acc += w1 * r0[q];
      acc += w2 * r0[q + 1];
      acc += w3 * r1[q - 1];
      acc += w4 * r1[q];
      acc += w5 * r1[q + 1];
      acc += w6 * r2[q - 1];
      acc += w7 * r2[q];
      acc += w8 * r2[q + 1];
      out[q] = acc;
    }
    out[0] = left;
    out[e] = right;
  }
}

// acc[r*3 + s] += sum_i dy[i] * x[i + d(r, s)] with x read from the margined copies (taps outside the plane or
// across a row end read zeros): one pass over the plane with nine vector accumulators.
ENGINE_DW_INLINE void WeightGrad3x3Same(const float* d_y, const float* x, const PlaneShape& g, double* acc,
                                       float* scratch) {
  const int64_t W = g.in_w, n = g.in_h * W, stride = MarginedStride(g);
  const float* xa = MarginedCopies(x, g, scratch);
  const float* xm = xa + stride;
  const float* xb = xm + stride;
  const float *a0 = xa - W - 1, *b0 = xm - W, *c0 = xb - W + 1;
  const float *a1 = xa - 1, *c1 = xb + 1;
  const float *a2 = xa + W - 1, *b2 = xm + W, *c2 = xb + W + 1;
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0, s8 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3, s4, s5, s6, s7, s8)
  for (int64_t i = 0; i < n; ++i) {
    const float dy = d_y[i];
    s0 += dy * a0[i];
    s1 += dy * b0[i];
    s2 += dy * c0[i];
    s3 += dy * a1[i];
    s4 += dy * xm[i];
    s5 += dy * c1[i];
    s6 += dy * a2[i];
    s7 += dy * b2[i];
    s8 += dy * c2[i];
  }
  const float sums[9] = {s0, s1, s2, s3, s4, s5, s6, s7, s8};
  for (int t = 0; t < 9; ++t) acc[t] += sums[t];
}

// The unrolled cases (3-wide filters at stride 1 and 2) and the run-time one.
#define ENGINE_DW_BY_SHAPE(FN, g, ...)                              \
  do {                                                               \
    if ((g).kernel_w == 3 && (g).stride == 1) {                      \
      FN<3, 1>(__VA_ARGS__);                                         \
    } else if ((g).kernel_w == 3 && (g).stride == 2) {               \
      FN<3, 2>(__VA_ARGS__);                                         \
    } else {                                                         \
      FN<0, 0>(__VA_ARGS__);                                         \
    }                                                                \
  } while (0)

template <Isa kIsa>
void TapsPlaneIsa(const float* x, const float* w, const PlaneShape& g, float* y, bool accumulate, float* scratch);
template <Isa kIsa>
void ScatterPlaneIsa(const float* d_y, const float* w, const PlaneShape& g, float* d_x);
template <Isa kIsa>
void WeightGradPlaneIsa(const float* d_y, const float* x, const PlaneShape& g, double* acc, float* scratch);

// One definition of each plane entry per ISA; the bodies are the same templates.
#define ENGINE_DW_PLANES(TARGET, ISA)                                                                          \
  template <>                                                                                                  \
  TARGET void TapsPlaneIsa<ISA>(const float* x, const float* w, const PlaneShape& g, float* y, bool acc,     \
                                 float* scratch) {                                                             \
    if (Is3x3Same(g) && g.in_w >= kWideRow) return Taps3x3SameRows(x, w, g, y, acc, scratch);                 \
    if (Is3x3Same(g)) return Taps3x3Same(x, w, g, y, acc, scratch);                                            \
    ENGINE_DW_BY_SHAPE(TapsPlane, g, x, w, g, y, acc);                                                         \
  }                                                                                                            \
  template <>                                                                                                  \
  TARGET void ScatterPlaneIsa<ISA>(const float* d_y, const float* w, const PlaneShape& g, float* d_x) {       \
    ENGINE_DW_BY_SHAPE(ScatterPlane, g, d_y, w, g, d_x);                                                       \
  }                                                                                                            \
  template <>                                                                                                  \
  TARGET void WeightGradPlaneIsa<ISA>(const float* d_y, const float* x, const PlaneShape& g, double* acc,     \
                                      float* scratch) {                                                        \
    if (Is3x3Same(g)) return WeightGrad3x3Same(d_y, x, g, acc, scratch);                                       \
    ENGINE_DW_BY_SHAPE(WeightGradPlane, g, d_y, x, g, acc);                                                    \
  }

ENGINE_DW_PLANES(ENGINE_TARGET_AVX512, Isa::kAvx512)
ENGINE_DW_PLANES(ENGINE_TARGET_AVX2, Isa::kAvx2)
ENGINE_DW_PLANES(, Isa::kPortable)

#undef ENGINE_DW_PLANES
#undef ENGINE_DW_BY_SHAPE

void TapsPlaneOn(Isa isa, const float* x, const float* w, const PlaneShape& g, float* y, bool accumulate,
                 float* scratch) {
  switch (isa) {
    case Isa::kAvx512: return TapsPlaneIsa<Isa::kAvx512>(x, w, g, y, accumulate, scratch);
    case Isa::kAvx2: return TapsPlaneIsa<Isa::kAvx2>(x, w, g, y, accumulate, scratch);
    case Isa::kPortable: return TapsPlaneIsa<Isa::kPortable>(x, w, g, y, accumulate, scratch);
  }
}
void ScatterPlaneOn(Isa isa, const float* d_y, const float* w, const PlaneShape& g, float* d_x) {
  switch (isa) {
    case Isa::kAvx512: return ScatterPlaneIsa<Isa::kAvx512>(d_y, w, g, d_x);
    case Isa::kAvx2: return ScatterPlaneIsa<Isa::kAvx2>(d_y, w, g, d_x);
    case Isa::kPortable: return ScatterPlaneIsa<Isa::kPortable>(d_y, w, g, d_x);
  }
}
void WeightGradPlaneOn(Isa isa, const float* d_y, const float* x, const PlaneShape& g, double* acc,
                       float* scratch) {
  switch (isa) {
    case Isa::kAvx512: return WeightGradPlaneIsa<Isa::kAvx512>(d_y, x, g, acc, scratch);
    case Isa::kAvx2: return WeightGradPlaneIsa<Isa::kAvx2>(d_y, x, g, acc, scratch);
    case Isa::kPortable: return WeightGradPlaneIsa<Isa::kPortable>(d_y, x, g, acc, scratch);
  }
}

// Floats of per-thread scratch a plane pass needs: the 3x3 'same' paths' three margined copies of the plane (on wide
// planes the forward and input gradient use only its first W floats, as the row of zeros).
int64_t ScratchFloats(const PlaneShape& g) { return Is3x3Same(g) ? 3 * MarginedStride(g) : 0; }

void DcheckShapes(const Conv2dParams& cp, int64_t w_rows, int64_t w_cols, int64_t in_rows, int64_t in_cols,
                  int64_t out_rows, int64_t out_cols) {
  ENGINE_DCHECK(cp.out_channels == cp.in_channels);
  ENGINE_DCHECK(w_rows == cp.in_channels && w_cols == cp.kernel_h * cp.kernel_w);
  ENGINE_DCHECK(in_rows == cp.in_channels && in_cols == cp.batch * cp.in_h * cp.in_w);
  ENGINE_DCHECK(out_rows == cp.in_channels && out_cols == cp.batch * cp.out_h() * cp.out_w());
  (void)cp, (void)w_rows, (void)w_cols, (void)in_rows, (void)in_cols, (void)out_rows, (void)out_cols;
}

double Flops(const Conv2dParams& cp) {
  return 2.0 * cp.in_channels * cp.kernel_h * cp.kernel_w * cp.batch * cp.out_h() * cp.out_w();
}

}  // namespace

void CheckDepthwiseConv2dParams(const Conv2dParams& cp, const char* context) {
  CheckConv2dParams(cp, context);
  ENGINE_CHECK(cp.out_channels == cp.in_channels, context, ": ", cp.out_channels, " output channels for ",
               cp.in_channels, " input channels; expected a depthwise conv (depth multiplier 1) to keep the count");
}

void DepthwiseConv2dForward(const Conv2dParams& cp, ConstDenseView w, ConstDenseView x, DenseView y) {
  DcheckShapes(cp, w.rows, w.cols, x.rows, x.cols, y.rows, y.cols);
  const PlaneShape g = ForwardShape(cp);
  const int64_t N = cp.batch, planes = cp.in_channels * N, in_plane = cp.in_h * cp.in_w;
  const int64_t out_plane = g.out_h * g.out_w;
  const Isa isa = ActiveIsa();
#pragma omp parallel
  {
    std::vector<float> scratch(static_cast<size_t>(ScratchFloats(g)));
#pragma omp for schedule(static)
    for (int64_t i = 0; i < planes; ++i) {
      const int64_t c = i / N, n = i % N;
      TapsPlaneOn(isa, x.row(c) + n * in_plane, w.row(c), g, y.row(c) + n * out_plane, /*accumulate=*/false,
                  scratch.data());
    }
  }
  FlopCounter::Add(Flops(cp));
}

void DepthwiseConv2dBackwardInput(const Conv2dParams& cp, ConstDenseView w, ConstDenseView d_y, DenseView d_x) {
  DcheckShapes(cp, w.rows, w.cols, d_x.rows, d_x.cols, d_y.rows, d_y.cols);
  const PlaneShape g = ForwardShape(cp);
  const int64_t C = cp.in_channels, N = cp.batch, R = cp.kernel_h, S = cp.kernel_w, planes = C * N;
  const int64_t in_plane = cp.in_h * cp.in_w, out_plane = g.out_h * g.out_w;
  const Isa isa = ActiveIsa();
  if (cp.stride == 1 && cp.pad <= R - 1 && cp.pad <= S - 1) {
    // dX[h, w] += sum_{r, s} W[R-1-r, S-1-s] * dY[h - (R-1-pad) + r, w - (S-1-pad) + s]: a forward correlation of
    // the dY plane with the flipped filter.
    std::vector<float> flipped(static_cast<size_t>(C * R * S));
    for (int64_t c = 0; c < C; ++c) {
      for (int64_t t = 0; t < R * S; ++t) flipped[c * R * S + t] = w.row(c)[R * S - 1 - t];
    }
    const PlaneShape gt = {g.out_h, g.out_w, cp.in_h, cp.in_w, R, S, 1, R - 1 - cp.pad, S - 1 - cp.pad};
#pragma omp parallel
    {
      std::vector<float> scratch(static_cast<size_t>(ScratchFloats(gt)));
#pragma omp for schedule(static)
      for (int64_t i = 0; i < planes; ++i) {
        const int64_t c = i / N, n = i % N;
        TapsPlaneOn(isa, d_y.row(c) + n * out_plane, flipped.data() + c * R * S, gt, d_x.row(c) + n * in_plane,
                    /*accumulate=*/true, scratch.data());
      }
    }
  } else {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < planes; ++i) {
      const int64_t c = i / N, n = i % N;
      ScatterPlaneOn(isa, d_y.row(c) + n * out_plane, w.row(c), g, d_x.row(c) + n * in_plane);
    }
  }
  FlopCounter::Add(Flops(cp));
}

void DepthwiseConv2dBackwardWeight(const Conv2dParams& cp, ConstDenseView d_y, ConstDenseView x, DenseView d_w) {
  DcheckShapes(cp, d_w.rows, d_w.cols, x.rows, x.cols, d_y.rows, d_y.cols);
  const PlaneShape g = ForwardShape(cp);
  const int64_t C = cp.in_channels, N = cp.batch, taps = cp.kernel_h * cp.kernel_w;
  const int64_t in_plane = cp.in_h * cp.in_w, out_plane = g.out_h * g.out_w;
  const Isa isa = ActiveIsa();
  std::vector<double> acc(static_cast<size_t>(C * taps), 0.0);
#pragma omp parallel
  {
    std::vector<float> scratch(static_cast<size_t>(ScratchFloats(g)));
#pragma omp for schedule(static)
    for (int64_t c = 0; c < C; ++c) {
      double* a = acc.data() + c * taps;
      for (int64_t n = 0; n < N; ++n) {
        WeightGradPlaneOn(isa, d_y.row(c) + n * out_plane, x.row(c) + n * in_plane, g, a, scratch.data());
      }
      for (int64_t t = 0; t < taps; ++t) d_w.row(c)[t] += static_cast<float>(a[t]);
    }
  }
  FlopCounter::Add(Flops(cp));
}

void DepthwiseConv2dForwardNaive(const Conv2dParams& cp, ConstDenseView w, ConstDenseView x, DenseView y) {
  const int64_t P = cp.out_h(), Q = cp.out_w(), H = cp.in_h, W = cp.in_w, R = cp.kernel_h, S = cp.kernel_w;
  for (int64_t c = 0; c < cp.in_channels; ++c) {
    for (int64_t n = 0; n < cp.batch; ++n) {
      for (int64_t p = 0; p < P; ++p) {
        for (int64_t q = 0; q < Q; ++q) {
          float acc = 0.0f;
          for (int64_t r = 0; r < R; ++r) {
            for (int64_t s = 0; s < S; ++s) {
              const int64_t h = p * cp.stride + r - cp.pad, v = q * cp.stride + s - cp.pad;
              if (h >= 0 && h < H && v >= 0 && v < W) acc += w.at(c, r * S + s) * x.at(c, (n * H + h) * W + v);
            }
          }
          y.at(c, (n * P + p) * Q + q) = acc;
        }
      }
    }
  }
}

void DepthwiseConv2dBackwardInputNaive(const Conv2dParams& cp, ConstDenseView w, ConstDenseView d_y,
                                       DenseView d_x) {
  const int64_t P = cp.out_h(), Q = cp.out_w(), H = cp.in_h, W = cp.in_w, R = cp.kernel_h, S = cp.kernel_w;
  for (int64_t c = 0; c < cp.in_channels; ++c) {
    for (int64_t n = 0; n < cp.batch; ++n) {
      for (int64_t p = 0; p < P; ++p) {
        for (int64_t q = 0; q < Q; ++q) {
          const float g = d_y.at(c, (n * P + p) * Q + q);
          for (int64_t r = 0; r < R; ++r) {
            for (int64_t s = 0; s < S; ++s) {
              const int64_t h = p * cp.stride + r - cp.pad, v = q * cp.stride + s - cp.pad;
              if (h >= 0 && h < H && v >= 0 && v < W) d_x.at(c, (n * H + h) * W + v) += w.at(c, r * S + s) * g;
            }
          }
        }
      }
    }
  }
}

void DepthwiseConv2dBackwardWeightNaive(const Conv2dParams& cp, ConstDenseView d_y, ConstDenseView x,
                                        DenseView d_w) {
  const int64_t P = cp.out_h(), Q = cp.out_w(), H = cp.in_h, W = cp.in_w, R = cp.kernel_h, S = cp.kernel_w;
  for (int64_t c = 0; c < cp.in_channels; ++c) {
    for (int64_t r = 0; r < R; ++r) {
      for (int64_t s = 0; s < S; ++s) {
        double acc = 0.0;
        for (int64_t n = 0; n < cp.batch; ++n) {
          for (int64_t p = 0; p < P; ++p) {
            for (int64_t q = 0; q < Q; ++q) {
              const int64_t h = p * cp.stride + r - cp.pad, v = q * cp.stride + s - cp.pad;
              if (h >= 0 && h < H && v >= 0 && v < W) {
                acc += double{d_y.at(c, (n * P + p) * Q + q)} * x.at(c, (n * H + h) * W + v);
              }
            }
          }
        }
        d_w.at(c, r * S + s) += static_cast<float>(acc);
      }
    }
  }
}

}  // namespace engine::kernels
