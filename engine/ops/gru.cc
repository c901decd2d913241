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

// One row i of one step's gates over the batch (b = 0..B-1), from the row's input projections gi_*, recurrent
// products gh_* and previous state h_prev: saves r, z, n and gh_n, writes the new state to h_next and out. Restrict
// pointers and no branches, so the compiler vectorises the loop over the batch.
void GatesForward(const float* __restrict gir, const float* __restrict giz, const float* __restrict gin,
                  const float* __restrict ghr, const float* __restrict ghz, const float* __restrict ghn,
                  const float* __restrict h_prev, float* __restrict r_out, float* __restrict z_out,
                  float* __restrict n_out, float* __restrict ghn_out, float* __restrict h_prev_out,
                  float* __restrict out, float* __restrict h_next, int64_t B) {
  for (int64_t b = 0; b < B; ++b) {
    const float r = Sigmoid(gir[b] + ghr[b]);
    const float z = Sigmoid(giz[b] + ghz[b]);
    const float n = Tanh(gin[b] + r * ghn[b]);
    const float hn = (1.0f - z) * n + z * h_prev[b];
    r_out[b] = r;
    z_out[b] = z;
    n_out[b] = n;
    ghn_out[b] = ghn[b];
    h_prev_out[b] = h_prev[b];
    out[b] = hn;
    h_next[b] = hn;
  }
}

// The same row's backward: from d (dL/dh_t, the carried part plus the output's) and the saved gates, the gate
// gradients of the recurrent product (dgh_r, dgh_z, dgh_n), the input projections' (added into dgi_*, when given)
// and dL/dh_{t-1} through the z path (to dh_prev; the W_hᵀ part is added after).
void GatesBackward(const float* __restrict d_carry, const float* __restrict d_out, const float* __restrict rr,
                   const float* __restrict zz, const float* __restrict nn, const float* __restrict ghn,
                   const float* __restrict h_prev, float* __restrict dgr, float* __restrict dgz,
                   float* __restrict dgn, float* __restrict dgi_r, float* __restrict dgi_z, float* __restrict dgi_n,
                   float* __restrict dh_prev, int64_t B) {
  for (int64_t b = 0; b < B; ++b) {
    const float d = d_carry[b] + d_out[b];
    const float r = rr[b], z = zz[b], n = nn[b];
    const float dn_pre = d * (1.0f - z) * (1.0f - n * n);
    const float dz_pre = d * (h_prev[b] - n) * z * (1.0f - z);
    const float dr_pre = dn_pre * ghn[b] * r * (1.0f - r);
    dgr[b] = dr_pre;
    dgz[b] = dz_pre;
    dgn[b] = dn_pre * r;
    dh_prev[b] = d * z;
    if (dgi_r != nullptr) {
      dgi_r[b] += dr_pre;
      dgi_z[b] += dz_pre;
      dgi_n[b] += dn_pre;
    }
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
  // The running state, contiguous (a strided [H, T*B] column block would map every row to one cache set), in two
  // buffers: h_t is written to the one h_{t-1} is not read from.
  Tensor h({H, B}), h_next({H, B});
  Tensor gh({3 * H, B});
  // Step 0: h_0 = 0 and gh_0 = b_h, so the product is skipped.
  for (int64_t i = 0; i < 3 * H; ++i) std::fill(gh.data() + i * B, gh.data() + (i + 1) * B, bias != nullptr ? bias[i] : 0.0f);
  const float* g_in = gi.value().data();
  float* hp = tape->h_prev->data();
  float* o = out.data();
  for (int64_t t = 0; t < steps; ++t) {
    if (t > 0) RecurrentProduct(w, bias, h.view(), gh.view());
    float* gates = tape->gates.data() + t * 4 * H * B;
    const float* ghd = gh.data();
    const float* hs = h.data();
    float* hn = h_next.data();
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < H; ++i) {
      const float* gir = g_in + i * TB + t * B;
      float* rr = gates + i * B;
      GatesForward(gir, gir + H * TB, gir + 2 * H * TB, ghd + i * B, ghd + (H + i) * B, ghd + (2 * H + i) * B,
                   hs + i * B, rr, rr + H * B, rr + 2 * H * B, rr + 3 * H * B, hp + i * TB + t * B,
                   o + i * TB + t * B, hn + i * B, B);
    }
    std::swap(h, h_next);
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
    Tensor dh({H, B});  // dL/dh_t carried from later steps (0 after the last), contiguous
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
        float* dgr = dg + i * B;
        float* dgi_r = dgi != nullptr ? dgi + i * TB + t * B : nullptr;
        // dh's row i is read (the carry) and then overwritten (dL/dh_{t-1}), element by element, so it goes
        // through a copy of the row to keep the pointers restrict.
        float carry[64];
        for (int64_t b0 = 0; b0 < B; b0 += 64) {
          const int64_t w = std::min<int64_t>(64, B - b0);
          std::copy(dhs + i * B + b0, dhs + i * B + b0 + w, carry);
          GatesBackward(carry, dy + i * TB + t * B + b0, rr + b0, rr + H * B + b0, rr + 2 * H * B + b0,
                        rr + 3 * H * B + b0, hp + i * TB + t * B + b0, dgr + b0, dgr + H * B + b0,
                        dgr + 2 * H * B + b0, dgi_r != nullptr ? dgi_r + b0 : nullptr,
                        dgi_r != nullptr ? dgi_r + H * TB + b0 : nullptr,
                        dgi_r != nullptr ? dgi_r + 2 * H * TB + b0 : nullptr, dhs + i * B + b0, w);
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
