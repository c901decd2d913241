// Dense convolution (see conv2d.h): im2col of a chunk of images into a scratch matrix, then OpenBLAS sgemm; the
// few-channel stride-1 forward and weight gradient go to conv2d_direct instead.
#include "engine/kernels/conv2d.h"

#include <algorithm>
#include <cstring>

#include "engine/base/check.h"
#include "engine/base/flop_counter.h"
#include "engine/kernels/conv2d_direct.h"
#include "engine/kernels/conv2d_plane.h"
#include "engine/kernels/gemm.h"
#include "engine/tensor/aligned.h"

namespace engine::kernels {
namespace {

using internal::ValidRange;

// N batch, C in-channels, K out-channels, H/W input, P/Q output, R/S filter.
// The im2col scratch holds at most this many floats (8 MB: stays in L3 between im2col and sgemm).
constexpr int64_t kChunkFloats = int64_t{1} << 21;

int64_t ImagesPerChunk(const Conv2dParams& cp) {
  const int64_t per_image = cp.filter_size() * cp.out_h() * cp.out_w();
  return std::max<int64_t>(1, std::min<int64_t>(cp.batch, kChunkFloats / std::max<int64_t>(1, per_image)));
}

// cols[(c, r, s), (n - n0)*P*Q + p*Q + q] = X[c, n, p*stride + r - pad, q*stride + s - pad] (0 outside X), for
// images n in [n0, n0 + nb). Rows are split across threads.
void Im2Col(const Conv2dParams& cp, ConstDenseView x, int64_t n0, int64_t nb, float* cols) {
  const int64_t H = cp.in_h, W = cp.in_w, P = cp.out_h(), Q = cp.out_w(), R = cp.kernel_h, S = cp.kernel_w;
  const int64_t st = cp.stride, pad = cp.pad, rows = cp.filter_size(), ld = nb * P * Q;
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row < rows; ++row) {
    const int64_t c = row / (R * S), r = (row / S) % R, s = row % S;
    // Valid q: 0 <= q*st + s - pad < W.
    int64_t q_lo, q_hi;
    ValidRange(pad - s, st, W, Q, &q_lo, &q_hi);
        for (int64_t n = n0; n < n0 + nb; ++n) {
      const float* plane = x.row(c) + n * H * W;  // X[c, n, :, :]
      for (int64_t p = 0; p < P; ++p) {
        float* out = cols + row * ld + ((n - n0) * P + p) * Q;
        const int64_t h = p * st + r - pad;
        if (h < 0 || h >= H) {
          std::fill(out, out + Q, 0.0f);
          continue;
        }
        const float* in = plane + h * W + s - pad;
        std::fill(out, out + q_lo, 0.0f);
        if (st == 1) {
          std::memcpy(out + q_lo, in + q_lo, sizeof(float) * (q_hi - q_lo));
        } else {
          for (int64_t q = q_lo; q < q_hi; ++q) out[q] = in[q * st];
        }
        std::fill(out + q_hi, out + Q, 0.0f);
      }
    }
  }
}

// d_x[c, n, h, w] += cols[(c, r, s), ...]: the adjoint of Im2Col. Parallel over c: one writer per element of d_x.
void Col2ImAccumulate(const Conv2dParams& cp, const float* cols, int64_t n0, int64_t nb, DenseView d_x) {
  const int64_t H = cp.in_h, W = cp.in_w, P = cp.out_h(), Q = cp.out_w(), R = cp.kernel_h, S = cp.kernel_w;
  const int64_t st = cp.stride, pad = cp.pad, ld = nb * P * Q;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < cp.in_channels; ++c) {
    for (int64_t r = 0; r < R; ++r) {
      for (int64_t s = 0; s < S; ++s) {
        const int64_t row = (c * R + r) * S + s;
        int64_t q_lo, q_hi;
        ValidRange(pad - s, st, W, Q, &q_lo, &q_hi);
        for (int64_t n = n0; n < n0 + nb; ++n) {
          float* plane = d_x.row(c) + n * H * W;
          for (int64_t p = 0; p < P; ++p) {
            const int64_t h = p * st + r - pad;
            if (h < 0 || h >= H) continue;
            const float* in = cols + row * ld + ((n - n0) * P + p) * Q;
            float* out = plane + h * W + s - pad;
            for (int64_t q = q_lo; q < q_hi; ++q) out[q * st] += in[q];
          }
        }
      }
    }
  }
}

// Y[k, :] = max(Y[k, :] + bias[k], 0) as flagged, over columns [col0, col0 + ncols).
void BiasRelu(DenseView y, int64_t col0, int64_t ncols, const float* bias, bool relu) {
  if (bias == nullptr && !relu) return;
#pragma omp parallel for schedule(static)
  for (int64_t k = 0; k < y.rows; ++k) {
    float* row = y.row(k) + col0;
    const float b = bias != nullptr ? bias[k] : 0.0f;
    if (relu) {
      for (int64_t j = 0; j < ncols; ++j) row[j] = std::max(row[j] + b, 0.0f);
    } else {
      for (int64_t j = 0; j < ncols; ++j) row[j] += b;
    }
  }
}

ConstDenseView Columns(ConstDenseView m, int64_t col0, int64_t ncols) { return {m.data + col0, m.rows, ncols, m.ld}; }
DenseView Columns(DenseView m, int64_t col0, int64_t ncols) { return {m.data + col0, m.rows, ncols, m.ld}; }

void DCheckShapes(const Conv2dParams& cp, ConstDenseView w, ConstDenseView x_like, ConstDenseView y_like) {
  ENGINE_DCHECK(w.rows == cp.out_channels && w.cols == cp.filter_size());
  ENGINE_DCHECK(x_like.rows == cp.in_channels && x_like.cols == cp.batch * cp.in_h * cp.in_w);
  ENGINE_DCHECK(y_like.rows == cp.out_channels && y_like.cols == cp.batch * cp.out_h() * cp.out_w());
  (void)cp, (void)w, (void)x_like, (void)y_like;
}

}  // namespace

void CheckConv2dParams(const Conv2dParams& cp, const char* context) {
  ENGINE_CHECK(cp.batch >= 1 && cp.in_channels >= 1 && cp.in_h >= 1 && cp.in_w >= 1 && cp.out_channels >= 1,
               context, ": sizes (N=", cp.batch, ", C=", cp.in_channels, ", H=", cp.in_h, ", W=", cp.in_w,
               ", K=", cp.out_channels, ") given; expected every size >= 1");
  ENGINE_CHECK(cp.kernel_h >= 1 && cp.kernel_w >= 1 && cp.stride >= 1 && cp.pad >= 0, context, ": kernel ",
               cp.kernel_h, "x", cp.kernel_w, ", stride ", cp.stride, ", pad ", cp.pad,
               " given; expected kernel >= 1, stride >= 1, pad >= 0");
  ENGINE_CHECK(cp.in_h + 2 * cp.pad >= cp.kernel_h && cp.in_w + 2 * cp.pad >= cp.kernel_w, context,
               ": padded input ", cp.in_h + 2 * cp.pad, "x", cp.in_w + 2 * cp.pad, " is smaller than the kernel ",
               cp.kernel_h, "x", cp.kernel_w, "; expected H + 2*pad >= R and W + 2*pad >= S");
}

// The chunk loop every lowered product shares: scratch for one chunk's columns [C*R*S, chunk*P*Q] (allocated once),
// then f(n0, nb, scratch view) for the chunks of images in ascending order.
template <typename F>
void ForEachImageChunk(const Conv2dParams& cp, F&& f) {
  const int64_t pq = cp.out_h() * cp.out_w(), chunk = ImagesPerChunk(cp);
  AlignedVector<float> scratch(static_cast<size_t>(cp.filter_size() * chunk * pq));
  for (int64_t n0 = 0; n0 < cp.batch; n0 += chunk) {
    const int64_t nb = std::min(chunk, cp.batch - n0);
    f(n0, nb, DenseView{scratch.data(), cp.filter_size(), nb * pq, nb * pq});
  }
}

void Conv2dForwardLowered(const Conv2dParams& cp, ConstDenseView x, DenseView y, const LoweredProduct& product,
                          const float* bias, bool relu) {
  const int64_t pq = cp.out_h() * cp.out_w();
  ForEachImageChunk(cp, [&](int64_t n0, int64_t nb, DenseView cols) {
    Im2Col(cp, x, n0, nb, cols.data);
    product(cols, Columns(y, n0 * pq, nb * pq));
  });
  BiasRelu(y, 0, cp.batch * pq, bias, relu);
  FlopCounter::Add(((bias != nullptr ? 1.0 : 0.0) + (relu ? 1.0 : 0.0)) * static_cast<double>(y.rows * y.cols));
}

void Conv2dBackwardInputLowered(const Conv2dParams& cp, ConstDenseView d_y, DenseView d_x,
                                const LoweredProduct& product_t) {
  const int64_t pq = cp.out_h() * cp.out_w();
  ForEachImageChunk(cp, [&](int64_t n0, int64_t nb, DenseView d_cols) {
    product_t(Columns(d_y, n0 * pq, nb * pq), d_cols);
    Col2ImAccumulate(cp, d_cols.data, n0, nb, d_x);
  });
}

void Conv2dBackwardWeightLowered(const Conv2dParams& cp, ConstDenseView d_y, ConstDenseView x,
                                 const LoweredWeightGrad& accumulate) {
  const int64_t pq = cp.out_h() * cp.out_w();
  ForEachImageChunk(cp, [&](int64_t n0, int64_t nb, DenseView cols) {
    Im2Col(cp, x, n0, nb, cols.data);
    accumulate(Columns(d_y, n0 * pq, nb * pq), cols);
  });
}

void Conv2dForward(const Conv2dParams& cp, ConstDenseView w, ConstDenseView x, DenseView y, const float* bias,
                   bool relu) {
  DCheckShapes(cp, w, x, y);
  if (internal::UseDirectConv2d(cp)) return internal::DirectConv2dForward(cp, w, x, y, bias, relu);
  if (internal::UseDirectPlaneConv2d(cp)) return internal::DirectPlaneConv2dForward(cp, w, x, y, bias, relu);
  if (!cp.IsPointwise()) {
    Conv2dForwardLowered(
        cp, x, y, [&w](ConstDenseView cols, DenseView out) { Gemm(false, false, 1.0f, w, cols, 0.0f, out); }, bias,
        relu);
    return;
  }
  Gemm(false, false, 1.0f, w, x, 0.0f, y);
  BiasRelu(y, 0, y.cols, bias, relu);
  FlopCounter::Add(((bias != nullptr ? 1.0 : 0.0) + (relu ? 1.0 : 0.0)) * static_cast<double>(y.rows * y.cols));
}

void Conv2dBackwardInput(const Conv2dParams& cp, ConstDenseView w, ConstDenseView d_y, DenseView d_x) {
  DCheckShapes(cp, w, d_x, d_y);
  if (cp.IsPointwise()) {
    Gemm(true, false, 1.0f, w, d_y, 1.0f, d_x);  // dX += Wᵀ dY
    return;
  }
  if (internal::UseDirectPlaneConv2dBackwardInput(cp)) return internal::DirectPlaneConv2dBackwardInput(cp, w, d_y, d_x);
  Conv2dBackwardInputLowered(
      cp, d_y, d_x, [&w](ConstDenseView dy, DenseView d_cols) { Gemm(true, false, 1.0f, w, dy, 0.0f, d_cols); });
}

void Conv2dBackwardWeight(const Conv2dParams& cp, ConstDenseView d_y, ConstDenseView x, DenseView d_w) {
  DCheckShapes(cp, d_w, x, d_y);
  if (internal::UseDirectConv2d(cp)) return internal::DirectConv2dBackwardWeight(cp, d_y, x, d_w);
  if (internal::UseDirectPlaneConv2d(cp)) return internal::DirectPlaneConv2dBackwardWeight(cp, d_y, x, d_w);
  if (cp.IsPointwise()) {
    Gemm(false, true, 1.0f, d_y, x, 1.0f, d_w);  // dW += dY Xᵀ
    return;
  }
  Conv2dBackwardWeightLowered(
      cp, d_y, x, [&d_w](ConstDenseView dy, ConstDenseView cols) { Gemm(false, true, 1.0f, dy, cols, 1.0f, d_w); });
}

DenseConv2dPath DenseConv2dPathFor(const Conv2dParams& cp) {
  if (internal::UseDirectConv2d(cp)) return DenseConv2dPath::kDirectFewChannels;
  if (internal::UseDirectPlaneConv2d(cp)) return DenseConv2dPath::kPlanes;
  return cp.IsPointwise() ? DenseConv2dPath::kPointwise : DenseConv2dPath::kLowered;
}

// --- naive twins ---

void Conv2dForwardNaive(const Conv2dParams& cp, ConstDenseView w, ConstDenseView x, DenseView y, const float* bias,
                        bool relu) {
  const int64_t C = cp.in_channels, H = cp.in_h, W = cp.in_w, P = cp.out_h(), Q = cp.out_w(), R = cp.kernel_h,
                S = cp.kernel_w;
  for (int64_t k = 0; k < cp.out_channels; ++k) {
    for (int64_t n = 0; n < cp.batch; ++n) {
      for (int64_t p = 0; p < P; ++p) {
        for (int64_t q = 0; q < Q; ++q) {
          float sum = bias != nullptr ? bias[k] : 0.0f;
          for (int64_t c = 0; c < C; ++c) {
            for (int64_t r = 0; r < R; ++r) {
              const int64_t h = p * cp.stride + r - cp.pad;
              if (h < 0 || h >= H) continue;
              for (int64_t s = 0; s < S; ++s) {
                const int64_t v = q * cp.stride + s - cp.pad;
                if (v < 0 || v >= W) continue;
                sum += w.at(k, (c * R + r) * S + s) * x.at(c, (n * H + h) * W + v);
              }
            }
          }
          y.at(k, (n * P + p) * Q + q) = relu ? std::max(sum, 0.0f) : sum;
        }
      }
    }
  }
  FlopCounter::Add(2.0 * static_cast<double>(cp.out_channels * cp.filter_size() * cp.batch * P * Q));
}

void Conv2dBackwardInputNaive(const Conv2dParams& cp, ConstDenseView w, ConstDenseView d_y, DenseView d_x) {
  const int64_t C = cp.in_channels, H = cp.in_h, W = cp.in_w, P = cp.out_h(), Q = cp.out_w(), R = cp.kernel_h,
                S = cp.kernel_w;
  for (int64_t k = 0; k < cp.out_channels; ++k) {
    for (int64_t n = 0; n < cp.batch; ++n) {
      for (int64_t p = 0; p < P; ++p) {
        for (int64_t q = 0; q < Q; ++q) {
          const float g = d_y.at(k, (n * P + p) * Q + q);
          for (int64_t c = 0; c < C; ++c) {
            for (int64_t r = 0; r < R; ++r) {
              const int64_t h = p * cp.stride + r - cp.pad;
              if (h < 0 || h >= H) continue;
              for (int64_t s = 0; s < S; ++s) {
                const int64_t v = q * cp.stride + s - cp.pad;
                if (v < 0 || v >= W) continue;
                d_x.at(c, (n * H + h) * W + v) += w.at(k, (c * R + r) * S + s) * g;
              }
            }
          }
        }
      }
    }
  }
  FlopCounter::Add(2.0 * static_cast<double>(cp.out_channels * cp.filter_size() * cp.batch * P * Q));
}

void Conv2dBackwardWeightNaive(const Conv2dParams& cp, ConstDenseView d_y, ConstDenseView x, DenseView d_w) {
  const int64_t C = cp.in_channels, H = cp.in_h, W = cp.in_w, P = cp.out_h(), Q = cp.out_w(), R = cp.kernel_h,
                S = cp.kernel_w;
  for (int64_t k = 0; k < cp.out_channels; ++k) {
    for (int64_t c = 0; c < C; ++c) {
      for (int64_t r = 0; r < R; ++r) {
        for (int64_t s = 0; s < S; ++s) {
          float sum = 0.0f;
          for (int64_t n = 0; n < cp.batch; ++n) {
            for (int64_t p = 0; p < P; ++p) {
              const int64_t h = p * cp.stride + r - cp.pad;
              if (h < 0 || h >= H) continue;
              for (int64_t q = 0; q < Q; ++q) {
                const int64_t v = q * cp.stride + s - cp.pad;
                if (v < 0 || v >= W) continue;
                sum += d_y.at(k, (n * P + p) * Q + q) * x.at(c, (n * H + h) * W + v);
              }
            }
          }
          d_w.at(k, (c * R + r) * S + s) += sum;
        }
      }
    }
  }
  FlopCounter::Add(2.0 * static_cast<double>(cp.out_channels * cp.filter_size() * cp.batch * P * Q));
}

}  // namespace engine::kernels
