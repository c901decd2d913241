// Batch normalisation: forward and backward side by side. Channels are split across threads; each channel's
// statistics are summed in double in a fixed order, so results do not depend on the thread count.
#include "engine/ops/batch_norm.h"

#include <cmath>
#include <memory>
#include <vector>

#include "engine/base/check.h"
#include "engine/base/fixed_order_sum.h"

namespace engine {

// Legend: C channels, M = N·H·W values per channel, x̂ = (x - mean) · inv_std.
// y = gamma·x̂ + beta.   dgamma += Σ dy·x̂;  dbeta += Σ dy;
// training:  dx += gamma·inv_std / M · (M·dy - Σ dy - x̂·Σ dy·x̂)   (mean and variance depend on x)
// inference: dx += gamma·inv_std · dy                               (running statistics are constants)
Variable BatchNorm(const Variable& x, DenseParameter& gamma, DenseParameter& beta, Tensor& running_mean,
                   Tensor& running_var, float momentum, float eps, bool training) {
  ENGINE_CHECK(x.defined() && (x.value().rank() == 2 || x.value().rank() == 4), "BatchNorm(", gamma.name,
               "): input has shape ", x.defined() ? x.value().ShapeString() : std::string("<undefined>"),
               "; expected [C, N, H, W] or [C, N]");
  const int64_t C = x.shape()[0];
  const int64_t M = C == 0 ? 0 : x.value().size() / C;
  for (const Tensor* t : {&gamma.var.value(), &beta.var.value(), &running_mean, &running_var}) {
    ENGINE_CHECK(t->rank() == 1 && t->dim(0) == C, "BatchNorm(", gamma.name, "): a parameter or running ",
                 "statistic has shape ", t->ShapeString(), "; expected [", C, "] (one per channel)");
  }
  ENGINE_CHECK(eps > 0, "BatchNorm(", gamma.name, "): eps = ", eps, "; expected > 0");
  ENGINE_CHECK(momentum >= 0 && momentum <= 1, "BatchNorm(", gamma.name, "): momentum = ", momentum,
               "; expected 0 <= momentum <= 1");
  ENGINE_CHECK(!training || M > 1, "BatchNorm(", gamma.name, "): training with ", M, " value(s) per channel; ",
               "expected N·H·W > 1 (batch statistics need at least two values)");
  // Per-channel mean and 1/std actually used to normalise, saved for the backward.
  auto mean = std::make_shared<std::vector<float>>(C);
  auto inv_std = std::make_shared<std::vector<float>>(C);
  Tensor y = Tensor::Uninitialized(x.shape());  // every channel written below
  const float* in = x.value().data();
  float* out = y.data();
  const float* g = gamma.var.value().data();
  const float* b = beta.var.value().data();
  float* rm = running_mean.data();
  float* rv = running_var.data();
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c) {
    const float* xc = in + c * M;
    double mu, var;
    if (training) {
      mu = FixedOrderSum(M, [xc](int64_t i) { return static_cast<double>(xc[i]); }) / static_cast<double>(M);
      const double m0 = mu;
      var = FixedOrderSum(M, [xc, m0](int64_t i) { return (xc[i] - m0) * (xc[i] - m0); }) / static_cast<double>(M);
      rm[c] = static_cast<float>((1.0 - momentum) * rm[c] + momentum * mu);
      rv[c] = static_cast<float>((1.0 - momentum) * rv[c] + momentum * var * M / (M - 1.0));
    } else {
      mu = rm[c];
      var = rv[c];
    }
    const double istd = 1.0 / std::sqrt(var + eps);
    (*mean)[c] = static_cast<float>(mu);
    (*inv_std)[c] = static_cast<float>(istd);
    const float scale = static_cast<float>(g[c] * istd);
    const float shift = static_cast<float>(b[c] - g[c] * istd * mu);
    float* yc = out + c * M;
#pragma omp simd
    for (int64_t i = 0; i < M; ++i) yc[i] = xc[i] * scale + shift;
  }
  Variable gv = gamma.var, bv = beta.var;
  return MakeResult(std::move(y), {x, gv, bv}, [x, gv, bv, mean, inv_std, C, M, training](const Tensor& d_y) {
    const float* in = x.value().data();
    const float* dy = d_y.data();
    const float* g = gv.value().data();
    float* d_x = x.requires_grad() ? x.grad().data() : nullptr;
    float* d_g = gv.requires_grad() ? gv.grad().data() : nullptr;
    float* d_b = bv.requires_grad() ? bv.grad().data() : nullptr;
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < C; ++c) {
      const float* xc = in + c * M;
      const float* gc = dy + c * M;
      const double mu = (*mean)[c], istd = (*inv_std)[c];
      double sum_dy, sum_dy_xhat;  // one pass over dy and x for both
      FixedOrderSum2(
          M,
          [gc, xc, mu, istd](int64_t i, double* dy_i, double* dy_xhat_i) {
            *dy_i = gc[i];
            *dy_xhat_i = gc[i] * ((xc[i] - mu) * istd);
          },
          &sum_dy, &sum_dy_xhat);
      if (d_g != nullptr) d_g[c] += static_cast<float>(sum_dy_xhat);
      if (d_b != nullptr) d_b[c] += static_cast<float>(sum_dy);
      if (d_x == nullptr) continue;
      float* dxc = d_x + c * M;
      if (training) {
        const double k = g[c] * istd / static_cast<double>(M);
#pragma omp simd
        for (int64_t i = 0; i < M; ++i) {
          const double xhat = (xc[i] - mu) * istd;
          dxc[i] += static_cast<float>(k * (M * static_cast<double>(gc[i]) - sum_dy - xhat * sum_dy_xhat));
        }
      } else {
        const float k = static_cast<float>(g[c] * istd);
#pragma omp simd
        for (int64_t i = 0; i < M; ++i) dxc[i] += k * gc[i];
      }
    }
  }, gamma.name + ".out");
}

}  // namespace engine
