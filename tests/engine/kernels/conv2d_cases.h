// Shared by the dense and sparse convolution kernel tests: a commented shape table and a double-precision direct
// convolution oracle that works on densified weights, written from the definition (no index code shared with the
// kernels: it walks input pixels and asks which output pixel each filter tap lands on). Test-only.
#ifndef TESTS_ENGINE_KERNELS_CONV2D_CASES_H_
#define TESTS_ENGINE_KERNELS_CONV2D_CASES_H_

#include <cstdint>
#include <ostream>
#include <vector>

#include "engine/kernels/conv2d.h"
#include "engine/tensor/tensor.h"

namespace testutil {

struct ConvCase {
  int64_t n, c, h, w, k, r, s, stride, pad;
  double density;  // of the sparse weight (the dense tests use a full random weight)
  const char* why;
  engine::kernels::Conv2dParams params() const {
    engine::kernels::Conv2dParams p;
    p.batch = n, p.in_channels = c, p.in_h = h, p.in_w = w, p.out_channels = k;
    p.kernel_h = r, p.kernel_w = s, p.stride = stride, p.pad = pad;
    return p;
  }
};

inline void PrintTo(const ConvCase& c, std::ostream* os) {
  *os << "N" << c.n << " C" << c.c << " " << c.h << "x" << c.w << " K" << c.k << " " << c.r << "x" << c.s << " st"
      << c.stride << " pad" << c.pad << " d" << c.density << " (" << c.why << ")";
}

inline std::vector<ConvCase> ConvKernelCases() {
  return {
      {1, 1, 1, 1, 1, 1, 1, 1, 0, 1.0, "smallest: 1x1 pointwise on a 1x1 image"},
      {2, 3, 7, 7, 5, 1, 1, 1, 0, 0.5, "1x1 pointwise, odd sizes (the SpMM path)"},
      {2, 8, 6, 6, 6, 1, 1, 2, 0, 0.5, "1x1 stride 2 (WRN shortcut): not the SpMM path"},
      {2, 3, 7, 7, 5, 3, 3, 1, 1, 1.0, "3x3 pad 1, odd sizes, fully dense pattern"},
      {2, 3, 7, 7, 5, 3, 3, 1, 0, 0.5, "3x3 pad 0 (valid)"},
      {2, 3, 7, 7, 5, 3, 3, 1, 2, 0.5, "3x3 pad 2: a wider border than 'same'"},
      {1, 2, 4, 4, 3, 3, 3, 1, 3, 0.5, "pad 3 > R-1: border outputs read only padding (direct input-grad path)"},
      {2, 3, 7, 7, 5, 3, 3, 2, 1, 0.5, "3x3 stride 2 pad 1 on an odd image (WRN downsampling)"},
      {2, 3, 8, 8, 4, 3, 3, 2, 1, 0.5, "3x3 stride 2 pad 1 on an even image"},
      {1, 3, 5, 5, 2, 3, 3, 3, 0, 0.5, "stride 3: nine phase planes"},
      {1, 2, 2, 9, 3, 2, 2, 2, 0, 0.5, "2x2 stride 2: phases tile the input exactly, 2x9 image"},
      {3, 4, 9, 6, 5, 5, 5, 1, 2, 0.5, "5x5 pad 2 on a rectangular image"},
      {2, 3, 8, 8, 4, 5, 5, 2, 2, 0.5, "5x5 stride 2 pad 2"},
      {2, 3, 7, 5, 5, 3, 5, 1, 1, 0.5, "rectangular 3x5 filter"},
      {2, 5, 1, 1, 3, 3, 3, 1, 1, 0.5, "1x1 image under a 3x3 filter: only the centre tap counts"},
      {2, 4, 7, 7, 5, 3, 3, 1, 1, 0.1, "density 0.1 (empty rows likely)"},
      {2, 4, 7, 7, 5, 3, 3, 1, 1, 0.0, "nnz = 0: forward writes the bias only, gradients add nothing"},
      {4, 1, 28, 28, 6, 5, 5, 1, 2, 0.5, "LeNet-5 conv1: 1->6 5x5 pad 2 on 28x28"},
      {4, 6, 14, 14, 16, 5, 5, 1, 0, 0.5, "LeNet-5 conv2: 6->16 5x5 on 14x14"},
      {2, 32, 16, 16, 32, 3, 3, 1, 1, 0.1, "WRN-22-2 layer 32->32 3x3 pad 1 on 16x16 at 90% sparsity"},
      {2, 32, 16, 16, 32, 3, 3, 1, 1, 1.0, "the same WRN layer fully dense"},
      {3, 16, 9, 9, 24, 3, 3, 2, 1, 0.2, "stride-2 WRN-like transition, 3 images"},
      {2, 12, 7, 7, 20, 3, 3, 1, 1, 0.5, "12->20 3x3 pad 1 on 7x7: more than 8 channels but lowered (49 of 64 plane positions useful)"},
      {2, 10, 9, 6, 9, 5, 5, 1, 2, 0.5, "10->9 5x5 pad 2 on a rectangular 9x6 image (lowered: too few useful positions)"},
      {1, 9, 8, 8, 3, 3, 3, 1, 0, 0.5, "9->3 3x3 pad 0 (lowered)"},
      {2, 11, 14, 14, 7, 3, 3, 1, 1, 0.5, "11->7 3x3 pad 1 on 14x14: the plane path with channel and tap tails"},
      {1, 9, 30, 30, 3, 3, 3, 1, 0, 0.5, "9->3 3x3 pad 0 on 30x30: planes; the flipped convolution pads 2"},
      {1, 9, 20, 40, 5, 3, 5, 1, 1, 0.5, "9->5 3x5 pad 1 on 20x40: planes, rectangular filter (flipped pads 1, 3)"},
      {2, 9, 5, 5, 4, 3, 3, 1, 2, 0.5, "9->4 3x3 pad 2 > R-1 (lowered)"},
      {2, 2, 5, 70, 3, 3, 3, 2, 1, 0.5, "stride 2 on a 70-wide row: two 32-pixel deinterleave steps and a tail"},
      {1, 2, 4, 37, 2, 3, 3, 2, 0, 0.5, "stride 2, odd width 37, pad 0: the other phase parity"},
  };
}

// y[k, n, p, q] = sum w[k, c, r, s] * x[c, n, h, v] in double, scattering from each input pixel (h, v) to the output
// pixels whose window covers it. w [K, C*R*S], x [C, N*H*W] (as tensors); returns [K, N*P*Q] row-major.
inline std::vector<double> ConvForwardF64(const engine::kernels::Conv2dParams& cp, const engine::Tensor& w,
                                          const engine::Tensor& x) {
  const int64_t P = cp.out_h(), Q = cp.out_w(), R = cp.kernel_h, S = cp.kernel_w;
  std::vector<double> y(cp.out_channels * cp.batch * P * Q, 0.0);
  for (int64_t c = 0; c < cp.in_channels; ++c)
    for (int64_t n = 0; n < cp.batch; ++n)
      for (int64_t h = 0; h < cp.in_h; ++h)
        for (int64_t v = 0; v < cp.in_w; ++v) {
          const double xv = x[(c * cp.batch + n) * cp.in_h * cp.in_w + h * cp.in_w + v];
          for (int64_t r = 0; r < R; ++r) {
            // Output row p with p*stride + r - pad == h.
            const int64_t pr = h + cp.pad - r;
            if (pr < 0 || pr % cp.stride != 0 || pr / cp.stride >= P) continue;
            for (int64_t s = 0; s < S; ++s) {
              const int64_t qs = v + cp.pad - s;
              if (qs < 0 || qs % cp.stride != 0 || qs / cp.stride >= Q) continue;
              for (int64_t k = 0; k < cp.out_channels; ++k) {
                const double wv = w[k * cp.in_channels * R * S + (c * R + r) * S + s];
                y[((k * cp.batch + n) * P + pr / cp.stride) * Q + qs / cp.stride] += wv * xv;
              }
            }
          }
        }
  return y;
}

// d_x = the adjoint of ConvForwardF64 in x: d_x[c, n, h, v] = sum over (k, r, s) with a covering output pixel.
inline std::vector<double> ConvBackwardInputF64(const engine::kernels::Conv2dParams& cp, const engine::Tensor& w,
                                                const engine::Tensor& d_y) {
  const int64_t P = cp.out_h(), Q = cp.out_w(), R = cp.kernel_h, S = cp.kernel_w;
  std::vector<double> d_x(cp.in_channels * cp.batch * cp.in_h * cp.in_w, 0.0);
  for (int64_t c = 0; c < cp.in_channels; ++c)
    for (int64_t n = 0; n < cp.batch; ++n)
      for (int64_t h = 0; h < cp.in_h; ++h)
        for (int64_t v = 0; v < cp.in_w; ++v) {
          double sum = 0.0;
          for (int64_t r = 0; r < R; ++r) {
            const int64_t pr = h + cp.pad - r;
            if (pr < 0 || pr % cp.stride != 0 || pr / cp.stride >= P) continue;
            for (int64_t s = 0; s < S; ++s) {
              const int64_t qs = v + cp.pad - s;
              if (qs < 0 || qs % cp.stride != 0 || qs / cp.stride >= Q) continue;
              for (int64_t k = 0; k < cp.out_channels; ++k) {
                sum += static_cast<double>(w[k * cp.in_channels * R * S + (c * R + r) * S + s]) *
                       d_y[((k * cp.batch + n) * P + pr / cp.stride) * Q + qs / cp.stride];
              }
            }
          }
          d_x[(c * cp.batch + n) * cp.in_h * cp.in_w + h * cp.in_w + v] = sum;
        }
  return d_x;
}

// d_w[k, (c, r, s)] = sum over covering pairs of d_y[k, n, p, q] * x[c, n, h, v]; returns dense [K, C*R*S].
inline std::vector<double> ConvBackwardWeightF64(const engine::kernels::Conv2dParams& cp, const engine::Tensor& d_y,
                                                 const engine::Tensor& x) {
  const int64_t P = cp.out_h(), Q = cp.out_w(), R = cp.kernel_h, S = cp.kernel_w;
  std::vector<double> d_w(cp.out_channels * cp.in_channels * R * S, 0.0);
  for (int64_t c = 0; c < cp.in_channels; ++c)
    for (int64_t n = 0; n < cp.batch; ++n)
      for (int64_t h = 0; h < cp.in_h; ++h)
        for (int64_t v = 0; v < cp.in_w; ++v) {
          const double xv = x[(c * cp.batch + n) * cp.in_h * cp.in_w + h * cp.in_w + v];
          for (int64_t r = 0; r < R; ++r) {
            const int64_t pr = h + cp.pad - r;
            if (pr < 0 || pr % cp.stride != 0 || pr / cp.stride >= P) continue;
            for (int64_t s = 0; s < S; ++s) {
              const int64_t qs = v + cp.pad - s;
              if (qs < 0 || qs % cp.stride != 0 || qs / cp.stride >= Q) continue;
              for (int64_t k = 0; k < cp.out_channels; ++k) {
                d_w[k * cp.in_channels * R * S + (c * R + r) * S + s] +=
                    xv * d_y[((k * cp.batch + n) * P + pr / cp.stride) * Q + qs / cp.stride];
              }
            }
          }
        }
  return d_w;
}

// Float32 accumulation error grows with the number of summed terms.
inline double ConvTolerance(int64_t terms) { return 1e-5 + 5e-7 * static_cast<double>(terms); }

}  // namespace testutil

#endif  // TESTS_ENGINE_KERNELS_CONV2D_CASES_H_
