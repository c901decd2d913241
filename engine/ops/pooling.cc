// Pooling ops: forward and backward side by side. Every (c, n) plane is independent and contiguous, so planes
// are split across threads and each output element has one writer (also in the backward: a plane's gradient is
// written only by the thread that owns the plane).
#include "engine/ops/pooling.h"

#include <functional>
#include <limits>
#include <memory>
#include <vector>

#include "engine/base/check.h"

namespace engine {
namespace {

// Legend: C channels, N batch, H/W input, P/Q output, K kernel, S stride, D padding.
struct PoolShape {
  int64_t C, N, H, W, P, Q, K, S, D;
  int64_t planes() const { return C * N; }
};

PoolShape CheckPool(const char* op, const Variable& x, int64_t kernel, int64_t stride, int64_t padding) {
  ENGINE_CHECK(x.defined() && x.value().rank() == 4, op, ": input has shape ",
               x.defined() ? x.value().ShapeString() : std::string("<undefined>"), "; expected [C, N, H, W]");
  ENGINE_CHECK(kernel >= 1 && stride >= 1, op, ": kernel = ", kernel, ", stride = ", stride, "; expected both >= 1");
  ENGINE_CHECK(padding >= 0 && 2 * padding <= kernel, op, ": padding = ", padding, " with kernel ", kernel,
               "; expected 0 <= padding <= kernel / 2");
  const auto& s = x.shape();
  const int64_t H = s[2], W = s[3];
  ENGINE_CHECK(H + 2 * padding >= kernel && W + 2 * padding >= kernel, op, ": input ", H, " x ", W, " with padding ",
               padding, " is smaller than the kernel ", kernel, "; expected H + 2·padding >= kernel (and W)");
  return {s[0], s[1], H, W, (H + 2 * padding - kernel) / stride + 1, (W + 2 * padding - kernel) / stride + 1,
          kernel, stride, padding};
}

// dx[argmax] += dy, argmax an offset within the plane.
std::function<void(const Tensor&)> MaxPoolBackward(const Variable& x, const PoolShape& sh,
                                                   std::shared_ptr<std::vector<int32_t>> argmax) {
  return [x, sh, argmax](const Tensor& d_y) {
    float* d_x = x.grad().data();
    const float* g = d_y.data();
    const int32_t* arg = argmax->data();
#pragma omp parallel for schedule(static)
    for (int64_t plane = 0; plane < sh.planes(); ++plane) {
      float* dp = d_x + plane * sh.H * sh.W;
      for (int64_t o = plane * sh.P * sh.Q; o < (plane + 1) * sh.P * sh.Q; ++o) dp[arg[o]] += g[o];
    }
  };
}

}  // namespace

// y = max over the window.   dx[argmax] += dy (argmax saved at the forward, as an offset in the plane).
Variable MaxPool2d(const Variable& x, int64_t kernel, int64_t stride, int64_t padding) {
  const PoolShape sh = CheckPool("MaxPool2d", x, kernel, stride, padding);
  Tensor y({sh.C, sh.N, sh.P, sh.Q});
  auto argmax = std::make_shared<std::vector<int32_t>>(static_cast<size_t>(y.size()));
  const float* in = x.value().data();
  float* out = y.data();
  int32_t* arg = argmax->data();
  if (sh.K == 2 && sh.S == 2 && sh.D == 0) {
    // 2x2 windows at stride 2, no padding (LeNet-5, VGG): every window lies inside the plane, so no bounds test.
    // The general loop's rule: the window's first value in row-major order, replaced only by a strictly greater one.
#pragma omp parallel for schedule(static)
    for (int64_t plane = 0; plane < sh.planes(); ++plane) {
      const float* xp = in + plane * sh.H * sh.W;
      for (int64_t p = 0; p < sh.P; ++p) {
        const float* r0 = xp + 2 * p * sh.W;
        const float* r1 = r0 + sh.W;
        float* yo = out + (plane * sh.P + p) * sh.Q;
        int32_t* ao = arg + (plane * sh.P + p) * sh.Q;
        const int32_t row0 = static_cast<int32_t>(2 * p * sh.W), row1 = static_cast<int32_t>(row0 + sh.W);
        // Selects, not branches: on real activations the comparisons are unpredictable, and a branch per
        // comparison cost more than the rest of the layer. The loop vectorises (stride-2 loads).
#pragma omp simd
        for (int64_t q = 0; q < sh.Q; ++q) {
          const int32_t w0 = static_cast<int32_t>(2 * q);
          const float a = r0[w0], b = r0[w0 + 1], c = r1[w0], d = r1[w0 + 1];
          float best = a;
          int32_t at = row0 + w0;
          const bool gb = b > best;
          best = gb ? b : best;
          at = gb ? row0 + w0 + 1 : at;
          const bool gc = c > best;
          best = gc ? c : best;
          at = gc ? row1 + w0 : at;
          const bool gd = d > best;
          best = gd ? d : best;
          at = gd ? row1 + w0 + 1 : at;
          yo[q] = best;
          ao[q] = at;
        }
      }
    }
    return MakeResult(std::move(y), {x}, MaxPoolBackward(x, sh, argmax), "max_pool2d");
  }
#pragma omp parallel for schedule(static)
  for (int64_t plane = 0; plane < sh.planes(); ++plane) {
    const float* xp = in + plane * sh.H * sh.W;
    for (int64_t p = 0; p < sh.P; ++p) {
      for (int64_t q = 0; q < sh.Q; ++q) {
        float best = -std::numeric_limits<float>::infinity();
        int64_t best_at = -1;
        for (int64_t r = 0; r < sh.K; ++r) {
          const int64_t h = p * sh.S - sh.D + r;
          if (h < 0 || h >= sh.H) continue;
          for (int64_t s = 0; s < sh.K; ++s) {
            const int64_t w = q * sh.S - sh.D + s;
            if (w < 0 || w >= sh.W) continue;
            if (best_at < 0 || xp[h * sh.W + w] > best) best = xp[h * sh.W + w], best_at = h * sh.W + w;
          }
        }
        const int64_t o = (plane * sh.P + p) * sh.Q + q;
        out[o] = best;
        arg[o] = static_cast<int32_t>(best_at);
      }
    }
  }
  return MakeResult(std::move(y), {x}, MaxPoolBackward(x, sh, argmax), "max_pool2d");
}

// y = (1/K²) sum over the window.   dx[window] += dy / K².
Variable AvgPool2d(const Variable& x, int64_t kernel, int64_t stride, int64_t padding) {
  const PoolShape sh = CheckPool("AvgPool2d", x, kernel, stride, padding);
  Tensor y({sh.C, sh.N, sh.P, sh.Q});
  const float inv = 1.0f / static_cast<float>(sh.K * sh.K);
  const float* in = x.value().data();
  float* out = y.data();
#pragma omp parallel for schedule(static)
  for (int64_t plane = 0; plane < sh.planes(); ++plane) {
    const float* xp = in + plane * sh.H * sh.W;
    for (int64_t p = 0; p < sh.P; ++p) {
      for (int64_t q = 0; q < sh.Q; ++q) {
        float sum = 0;
        for (int64_t r = 0; r < sh.K; ++r) {
          const int64_t h = p * sh.S - sh.D + r;
          if (h < 0 || h >= sh.H) continue;
          for (int64_t s = 0; s < sh.K; ++s) {
            const int64_t w = q * sh.S - sh.D + s;
            if (w >= 0 && w < sh.W) sum += xp[h * sh.W + w];
          }
        }
        out[(plane * sh.P + p) * sh.Q + q] = sum * inv;
      }
    }
  }
  return MakeResult(std::move(y), {x}, [x, sh, inv](const Tensor& d_y) {
    float* d_x = x.grad().data();
    const float* g = d_y.data();
#pragma omp parallel for schedule(static)
    for (int64_t plane = 0; plane < sh.planes(); ++plane) {
      float* dp = d_x + plane * sh.H * sh.W;
      for (int64_t p = 0; p < sh.P; ++p) {
        for (int64_t q = 0; q < sh.Q; ++q) {
          const float gv = g[(plane * sh.P + p) * sh.Q + q] * inv;
          for (int64_t r = 0; r < sh.K; ++r) {
            const int64_t h = p * sh.S - sh.D + r;
            if (h < 0 || h >= sh.H) continue;
            for (int64_t s = 0; s < sh.K; ++s) {
              const int64_t w = q * sh.S - sh.D + s;
              if (w >= 0 && w < sh.W) dp[h * sh.W + w] += gv;
            }
          }
        }
      }
    }
  }, "avg_pool2d");
}

// y[c, n] = (1/HW) sum_s x[c, n, s].   dx[c, n, s] += dy[c, n] / HW.
Variable GlobalAvgPool(const Variable& x) {
  ENGINE_CHECK(x.defined() && x.value().rank() == 4, "GlobalAvgPool: input has shape ",
               x.defined() ? x.value().ShapeString() : std::string("<undefined>"), "; expected [C, N, H, W]");
  const int64_t C = x.shape()[0], N = x.shape()[1], hw = x.shape()[2] * x.shape()[3];
  ENGINE_CHECK(hw > 0, "GlobalAvgPool: input has shape ", x.value().ShapeString(), "; expected H, W >= 1");
  Tensor y({C, N});
  const float* in = x.value().data();
  float* out = y.data();
#pragma omp parallel for schedule(static)
  for (int64_t plane = 0; plane < C * N; ++plane) {
    double sum = 0;
    for (int64_t s = 0; s < hw; ++s) sum += in[plane * hw + s];
    out[plane] = static_cast<float>(sum / static_cast<double>(hw));
  }
  return MakeResult(std::move(y), {x}, [x, C, N, hw](const Tensor& d_y) {
    float* d_x = x.grad().data();
    const float* g = d_y.data();
    const float inv = 1.0f / static_cast<float>(hw);
#pragma omp parallel for schedule(static)
    for (int64_t plane = 0; plane < C * N; ++plane) {
      for (int64_t s = 0; s < hw; ++s) d_x[plane * hw + s] += g[plane] * inv;
    }
  }, "global_avg_pool");
}

}  // namespace engine
