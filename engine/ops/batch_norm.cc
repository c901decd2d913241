// Batch normalisation: forward and backward side by side. Channels are split across threads; each channel's
// statistics are summed in double in a fixed order, so results do not depend on the thread count. The channel
// loops are compiled per ISA (engine::ActiveIsa()) with the same arithmetic, so neither on the ISA.
#include "engine/ops/batch_norm.h"

#include <cmath>
#include <memory>
#include <vector>

#include "engine/base/check.h"
#include "engine/base/cpu.h"
#include "engine/kernels/isa_target.h"

namespace engine {
namespace {

#define ENGINE_BN_INLINE inline __attribute__((always_inline))

// FixedOrderSum's eight partials (fixed_order_sum.h: term i to partial i mod 8, combined pairwise, then the tail) as
// the eight lanes of one vector of doubles, so they run side by side: the same operations, the same bits.
typedef float V8f __attribute__((vector_size(32)));
typedef double V8d __attribute__((vector_size(64)));
ENGINE_BN_INLINE V8d Load8(const float* p) {
  V8f v;
  __builtin_memcpy(&v, p, sizeof(v));
  return __builtin_convertvector(v, V8d);
}
ENGINE_BN_INLINE double Combine(V8d p) { return ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7])); }

// Σ x and Σ (x - m0)², each in FixedOrderSum's order.
ENGINE_BN_INLINE double SumOf(const float* x, int64_t M) {
  V8d acc = V8d{};
  int64_t i = 0;
  for (; i + 8 <= M; i += 8) acc += Load8(x + i);
  double sum = Combine(acc);
  for (; i < M; ++i) sum += static_cast<double>(x[i]);
  return sum;
}
ENGINE_BN_INLINE double SquaredDeviations(const float* x, int64_t M, double m0) {
  V8d acc = V8d{};
  int64_t i = 0;
  for (; i + 8 <= M; i += 8) {
    const V8d t = Load8(x + i) - m0;
    acc += t * t;
  }
  double sum = Combine(acc);
  for (; i < M; ++i) sum += (x[i] - m0) * (x[i] - m0);
  return sum;
}
// Σ dy and Σ dy·x̂ in one pass, as FixedOrderSum2.
ENGINE_BN_INLINE void GradientSums(const float* dy, const float* x, int64_t M, double mu, double istd, double* sum_dy,
                                   double* sum_dy_xhat) {
  V8d a = V8d{}, b = V8d{};
  int64_t i = 0;
  for (; i + 8 <= M; i += 8) {
    const V8d g = Load8(dy + i);
    a += g;
    b += g * ((Load8(x + i) - mu) * istd);
  }
  double sa = Combine(a), sb = Combine(b);
  for (; i < M; ++i) {
    sa += dy[i];
    sb += dy[i] * ((x[i] - mu) * istd);
  }
  *sum_dy = sa;
  *sum_dy_xhat = sb;
}

// Channel c of the forward: statistics (training) or the running ones, then y = x·scale + shift.
ENGINE_BN_INLINE void ForwardChannel(const float* xc, float* yc, int64_t M, bool training, float momentum, float eps,
                                     float g, float b, float* rm, float* rv, float* mean, float* inv_std) {
  double mu, var;
  if (training) {
    mu = SumOf(xc, M) / static_cast<double>(M);
    var = SquaredDeviations(xc, M, mu) / static_cast<double>(M);
    *rm = static_cast<float>((1.0 - momentum) * *rm + momentum * mu);
    *rv = static_cast<float>((1.0 - momentum) * *rv + momentum * var * M / (M - 1.0));
  } else {
    mu = *rm;
    var = *rv;
  }
  const double istd = 1.0 / std::sqrt(var + eps);
  *mean = static_cast<float>(mu);
  *inv_std = static_cast<float>(istd);
  const float scale = static_cast<float>(g * istd);
  const float shift = static_cast<float>(b - g * istd * mu);
#pragma omp simd
  for (int64_t i = 0; i < M; ++i) yc[i] = xc[i] * scale + shift;
}

// Channel c of the backward: Σ dy and Σ dy·x̂ in one pass, then dx (when d_x is not null).
ENGINE_BN_INLINE void BackwardChannel(const float* xc, const float* gc, int64_t M, bool training, double mu,
                                      double istd, float g, float* d_g, float* d_b, float* dxc) {
  double sum_dy, sum_dy_xhat;  // one pass over dy and x for both
  GradientSums(gc, xc, M, mu, istd, &sum_dy, &sum_dy_xhat);
  if (d_g != nullptr) *d_g += static_cast<float>(sum_dy_xhat);
  if (d_b != nullptr) *d_b += static_cast<float>(sum_dy);
  if (dxc == nullptr) return;
  if (training) {
    const double k = g * istd / static_cast<double>(M);
#pragma omp simd
    for (int64_t i = 0; i < M; ++i) {
      const double xhat = (xc[i] - mu) * istd;
      dxc[i] += static_cast<float>(k * (M * static_cast<double>(gc[i]) - sum_dy - xhat * sum_dy_xhat));
    }
  } else {
    const float k = static_cast<float>(g * istd);
#pragma omp simd
    for (int64_t i = 0; i < M; ++i) dxc[i] += k * gc[i];
  }
}

// The channel bodies compiled for each ISA (this file builds with -ffp-contract=off: the same operations in the same
// order on every ISA, so the same bits as FixedOrderSum gave before; wider vectors only run the partials at once).
template <Isa kIsa>
void ForwardChannelIsa(const float* xc, float* yc, int64_t M, bool training, float momentum, float eps, float g,
                       float b, float* rm, float* rv, float* mean, float* inv_std);
template <Isa kIsa>
void BackwardChannelIsa(const float* xc, const float* gc, int64_t M, bool training, double mu, double istd, float g,
                        float* d_g, float* d_b, float* dxc);

#define ENGINE_BN_ISA(TARGET, ISA)                                                                                 \
  template <>                                                                                                      \
  TARGET void ForwardChannelIsa<ISA>(const float* xc, float* yc, int64_t M, bool training, float momentum,         \
                                     float eps, float g, float b, float* rm, float* rv, float* mean,              \
                                     float* inv_std) {                                                             \
    ForwardChannel(xc, yc, M, training, momentum, eps, g, b, rm, rv, mean, inv_std);                               \
  }                                                                                                                \
  template <>                                                                                                      \
  TARGET void BackwardChannelIsa<ISA>(const float* xc, const float* gc, int64_t M, bool training, double mu,       \
                                      double istd, float g, float* d_g, float* d_b, float* dxc) {                  \
    BackwardChannel(xc, gc, M, training, mu, istd, g, d_g, d_b, dxc);                                              \
  }

ENGINE_BN_ISA(ENGINE_TARGET_AVX512, Isa::kAvx512)
ENGINE_BN_ISA(ENGINE_TARGET_AVX2, Isa::kAvx2)
ENGINE_BN_ISA(, Isa::kPortable)

#undef ENGINE_BN_ISA

}  // namespace

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
  const Isa isa = ActiveIsa();
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c) {
    float* const mean_c = &(*mean)[c];
    float* const istd_c = &(*inv_std)[c];
    switch (isa) {
      case Isa::kAvx512:
        ForwardChannelIsa<Isa::kAvx512>(in + c * M, out + c * M, M, training, momentum, eps, g[c], b[c], &rm[c],
                                        &rv[c], mean_c, istd_c);
        break;
      case Isa::kAvx2:
        ForwardChannelIsa<Isa::kAvx2>(in + c * M, out + c * M, M, training, momentum, eps, g[c], b[c], &rm[c],
                                      &rv[c], mean_c, istd_c);
        break;
      case Isa::kPortable:
        ForwardChannelIsa<Isa::kPortable>(in + c * M, out + c * M, M, training, momentum, eps, g[c], b[c], &rm[c],
                                          &rv[c], mean_c, istd_c);
        break;
    }
  }
  Variable gv = gamma.var, bv = beta.var;
  return MakeResult(std::move(y), {x, gv, bv}, [x, gv, bv, mean, inv_std, C, M, training](const Tensor& d_y) {
    const float* in = x.value().data();
    const float* dy = d_y.data();
    const float* g = gv.value().data();
    float* d_x = x.requires_grad() ? x.grad().data() : nullptr;
    float* d_g = gv.requires_grad() ? gv.grad().data() : nullptr;
    float* d_b = bv.requires_grad() ? bv.grad().data() : nullptr;
    const Isa isa = ActiveIsa();
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < C; ++c) {
      const double mu = (*mean)[c], istd = (*inv_std)[c];
      float* const dg = d_g != nullptr ? d_g + c : nullptr;
      float* const db = d_b != nullptr ? d_b + c : nullptr;
      float* const dxc = d_x != nullptr ? d_x + c * M : nullptr;
      switch (isa) {
        case Isa::kAvx512:
          BackwardChannelIsa<Isa::kAvx512>(in + c * M, dy + c * M, M, training, mu, istd, g[c], dg, db, dxc);
          break;
        case Isa::kAvx2:
          BackwardChannelIsa<Isa::kAvx2>(in + c * M, dy + c * M, M, training, mu, istd, g[c], dg, db, dxc);
          break;
        case Isa::kPortable:
          BackwardChannelIsa<Isa::kPortable>(in + c * M, dy + c * M, M, training, mu, istd, g[c], dg, db, dxc);
          break;
      }
    }
  }, gamma.name + ".out");
}

}  // namespace engine
