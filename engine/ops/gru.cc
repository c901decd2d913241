// GRU recurrence: forward and backward through time side by side (see gru.h).
#include "engine/ops/gru.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "engine/base/check.h"
#include "engine/kernels/gemm.h"
#include "engine/kernels/sddmm.h"
#include "engine/kernels/spmm.h"
#include "engine/kernels/spmm_transposed.h"
#include "engine/ops/bias.h"
#include "engine/ops/sparse_weight_op.h"

namespace engine {
namespace {

// e^x for x clamped to [-87, 88]: x = k ln2 + r with |r| <= ln2 / 2 (k rounded by the 1.5 * 2^23 trick, ln2 split in
// two so k ln2 is exact), e^r by its degree-6 Taylor polynomial (relative error < 2e-7), times 2^k built in the
// exponent bits. Plain float adds and multiplies only, in a fixed order: vectorisable and the same bits everywhere.
inline float Exp(float x) {
  x = std::min(std::max(x, -87.0f), 88.0f);
  const float k = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const float r = (x - k * 0.693145751953125f) - k * 1.42860682030941723e-6f;
  float p = 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(k) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return p * scale;
}

inline float Sigmoid(float x) { return 1.0f / (1.0f + Exp(-x)); }
// 1 - 2 / (1 + e^{2x}): exact limits -1 and 1; an absolute error of a few 1e-8 near 0.
inline float Tanh(float x) { return 1.0f - 2.0f / (1.0f + Exp(2.0f * x)); }

// What the forward keeps for the backward. gates holds, per step t, the rows [r; z; n; gh_n] ([4H, B], contiguous);
// h_prev is [H, T*B] with column block t = h_t's predecessor h_{t-1} (block 0 = h_0 = 0), the layout the single
// weight-gradient SDDMM wants.
struct GruTape {
  int64_t hidden = 0, batch = 0, steps = 0;
  Tensor gates;
  std::shared_ptr<Tensor> h_prev;
};

void RecurrentProduct(const GruRecurrentWeight& w, const float* bias, ConstDenseView h, DenseView gh) {
  if (w.sparse != nullptr) {
    kernels::SpmmCsr(w.sparse->weight().view(), h, gh, bias);
  } else {
    kernels::Gemm(false, false, 1.0f, w.dense->var.value().view(), h, 0.0f, gh);
    if (bias != nullptr) AddBiasRows(bias, gh);
  }
}

}  // namespace

float GruSigmoid(float x) { return Sigmoid(x); }
float GruTanh(float x) { return Tanh(x); }

Variable GruRecurrence(const Variable& gi, int64_t steps, const GruRecurrentWeight& w, DenseParameter* b_h) {
  ENGINE_CHECK((w.dense == nullptr) != (w.sparse == nullptr), "GruRecurrence: ",
               w.dense == nullptr ? "no recurrent weight" : "both a dense and a sparse recurrent weight",
               " given; expected exactly one");
  const std::string name = w.sparse != nullptr ? w.sparse->name : w.dense->name;
  const int64_t rows = w.sparse != nullptr ? w.sparse->rows() : w.dense->var.value().dim(0);
  const int64_t cols = w.sparse != nullptr ? w.sparse->cols() : w.dense->var.value().dim(1);
  ENGINE_CHECK(w.sparse == nullptr || !w.sparse->blocked(), "GruRecurrence(", name,
               "): a blocked (BSR) recurrent weight; expected CSR or dense");
  ENGINE_CHECK(w.dense == nullptr || w.dense->var.value().rank() == 2, "GruRecurrence(", name, "): weight has shape ",
               w.dense != nullptr ? w.dense->var.value().ShapeString() : "", "; expected [3H, H]");
  ENGINE_CHECK(cols > 0 && rows == 3 * cols, "GruRecurrence(", name, "): weight is ", rows, " x ", cols,
               "; expected [3H, H] with H > 0");
  const int64_t H = cols;
  ENGINE_CHECK(steps > 0 && gi.value().rank() == 2 && gi.shape()[0] == 3 * H && gi.shape()[1] % steps == 0 &&
                   gi.shape()[1] > 0,
               "GruRecurrence(", name, "): input projections have shape ", gi.value().ShapeString(), " for ", steps,
               " steps; expected [", 3 * H, ", steps * batch] with steps > 0");
  const float* bias = nullptr;
  if (b_h != nullptr) {
    ENGINE_CHECK(b_h->var.value().rank() == 1 && b_h->var.value().dim(0) == 3 * H, "GruRecurrence(", b_h->name,
                 "): bias has shape ", b_h->var.value().ShapeString(), "; expected [", 3 * H, "]");
    bias = b_h->var.value().data();
  }
  if (w.sparse != nullptr) {
    ENGINE_CHECK(static_cast<int64_t>(w.sparse->grad.size()) == w.sparse->stored(), "GruRecurrence(", name,
                 "): gradient has ", w.sparse->grad.size(), " entries; expected the stored count ", w.sparse->stored());
    w.sparse->dense_grad_rows = nullptr;
  }
  const int64_t B = gi.shape()[1] / steps, TB = steps * B;
  auto tape = std::make_shared<GruTape>();
  tape->hidden = H;
  tape->batch = B;
  tape->steps = steps;
  tape->gates = Tensor({steps, 4 * H, B});
  tape->h_prev = std::make_shared<Tensor>(std::vector<int64_t>{H, TB});
  Tensor out({H, TB});
  Tensor h({H, B});  // the running state, contiguous (a strided [H, T*B] column block would alias in every cache)
  Tensor gh({3 * H, B});
  const float* g_in = gi.value().data();
  float* hp = tape->h_prev->data();
  float* o = out.data();
  float* hs = h.data();
  const float* ghd = gh.data();
  for (int64_t t = 0; t < steps; ++t) {
    if (t > 0) RecurrentProduct(w, bias, h.view(), gh.view());
    float* gates = tape->gates.data() + t * 4 * H * B;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < H; ++i) {
      const float* gir = g_in + i * TB + t * B;
      const float* giz = gir + H * TB;
      const float* gin = giz + H * TB;
      float* rr = gates + i * B;
      float* zz = rr + H * B;
      float* nn = zz + H * B;
      float* ghn_saved = nn + H * B;
      float* hrow = hs + i * B;
      float* hp_row = hp + i * TB + t * B;
      float* o_row = o + i * TB + t * B;
      for (int64_t b = 0; b < B; ++b) {
        // At t = 0, h_0 = 0 and gh_0 = b_h: the product is skipped.
        const float hb = t > 0 ? hrow[b] : 0.0f;
        const float ghr = t > 0 ? ghd[i * B + b] : (bias != nullptr ? bias[i] : 0.0f);
        const float ghz = t > 0 ? ghd[(H + i) * B + b] : (bias != nullptr ? bias[H + i] : 0.0f);
        const float ghn = t > 0 ? ghd[(2 * H + i) * B + b] : (bias != nullptr ? bias[2 * H + i] : 0.0f);
        const float r = Sigmoid(gir[b] + ghr);
        const float z = Sigmoid(giz[b] + ghz);
        const float n = Tanh(gin[b] + r * ghn);
        const float hn = (1.0f - z) * n + z * hb;
        rr[b] = r;
        zz[b] = z;
        nn[b] = n;
        ghn_saved[b] = ghn;
        hp_row[b] = hb;
        o_row[b] = hn;
        hrow[b] = hn;
      }
    }
  }
  std::vector<Variable> parents = {gi};
  Variable wvar = w.dense != nullptr ? w.dense->var : Variable();
  Variable bvar = b_h != nullptr ? b_h->var : Variable();
  if (wvar.defined()) parents.push_back(wvar);
  if (bvar.defined()) parents.push_back(bvar);
  SparseParameter* sp = w.sparse;
  const uint64_t version = sp != nullptr ? sp->topology_version() : 0;
  const GruRecurrentWeight weight = w;
  auto backward = [gi, tape, weight, wvar, bvar, sp, version](const Tensor& d_out) {
    if (sp != nullptr) CheckTopologyUnchanged("GruRecurrence", *sp, version);
    const int64_t H = tape->hidden, B = tape->batch, T = tape->steps, TB = T * B;
    const bool want_gi = gi.requires_grad();
    const bool want_w = wvar.requires_grad() || (sp != nullptr && (!sp->skip_pattern_grad || sp->want_dense_grad));
    const bool want_b = bvar.requires_grad();
    // dgh of every step, [3H, T*B] (column block t = step t), for W_h's and b_h's gradients after the loop.
    auto d_gh_all = std::make_shared<Tensor>(std::vector<int64_t>{3 * H, TB});
    Tensor dh({H, B});  // dL/dh_t carried from later steps, contiguous
    Tensor d_gh({3 * H, B});
    float* dgi = want_gi ? gi.grad().data() : nullptr;
    const float* dy = d_out.data();
    const float* hp = tape->h_prev->data();
    float* dgh_all = d_gh_all->data();
    float* dhs = dh.data();
    float* dg = d_gh.data();
    for (int64_t t = T - 1; t >= 0; --t) {
      const float* gates = tape->gates.data() + t * 4 * H * B;
#pragma omp parallel for schedule(static)
      for (int64_t i = 0; i < H; ++i) {
        const float* rr = gates + i * B;
        const float* zz = rr + H * B;
        const float* nn = zz + H * B;
        const float* ghn = nn + H * B;
        const float* hp_row = hp + i * TB + t * B;
        const float* dy_row = dy + i * TB + t * B;
        float* dh_row = dhs + i * B;
        float* dgr = dg + i * B;
        float* dgz = dgr + H * B;
        float* dgn = dgz + H * B;
        for (int64_t b = 0; b < B; ++b) {
          const float d = (t + 1 < T ? dh_row[b] : 0.0f) + dy_row[b];
          const float r = rr[b], z = zz[b], n = nn[b];
          const float dn_pre = d * (1.0f - z) * (1.0f - n * n);
          const float dz_pre = d * (hp_row[b] - n) * z * (1.0f - z);
          const float dr_pre = dn_pre * ghn[b] * r * (1.0f - r);
          dgr[b] = dr_pre;
          dgz[b] = dz_pre;
          dgn[b] = dn_pre * r;
          dh_row[b] = d * z;
          if (dgi != nullptr) {
            float* dgi_r = dgi + i * TB + t * B;
            dgi_r[b] += dr_pre;
            dgi_r[H * TB + b] += dz_pre;
            dgi_r[2 * H * TB + b] += dn_pre;
          }
        }
        for (int64_t g = 0; g < 3; ++g) {
          std::copy(dg + (g * H + i) * B, dg + (g * H + i + 1) * B, dgh_all + (g * H + i) * TB + t * B);
        }
      }
      // h_0 is the constant 0: nothing flows back from step 0.
      if (t == 0) break;
      if (weight.sparse != nullptr) {
        kernels::SpmmCsrTransposedAccumulate(weight.sparse->weight().view(/*with_transpose=*/true), d_gh.view(),
                                             dh.view());
      } else {
        kernels::Gemm(true, false, 1.0f, weight.dense->var.value().view(), d_gh.view(), 1.0f, dh.view());
      }
    }
    if (want_b) AccumulateRowSums(d_gh_all->view(), bvar.grad().data());
    if (!want_w) return;
    if (wvar.defined()) {
      kernels::Gemm(false, true, 1.0f, d_gh_all->view(), tape->h_prev->view(), 1.0f, wvar.grad().view());
      return;
    }
    if (!sp->skip_pattern_grad) {
      kernels::SddmmCsrAccumulate(sp->weight().view(), d_gh_all->view(), tape->h_prev->view(), sp->grad.data());
    }
    if (sp->want_dense_grad) {
      std::shared_ptr<Tensor> h_prev = tape->h_prev;
      InstallDenseGradRows(sp, d_gh_all, [h_prev](int64_t, int64_t, ConstDenseView d_rows, DenseView out) {
        kernels::Gemm(false, true, 1.0f, d_rows, h_prev->view(), 0.0f, out);
      });
    }
  };
  return MakeResult(std::move(out), std::move(parents), std::move(backward), name + ".out",
                    /*extra_requires_grad=*/sp != nullptr);
}

}  // namespace engine
