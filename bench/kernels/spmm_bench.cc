// Benchmarks of SpmmCsr (forward, Y = W X) and SpmmCsrTransposed (input gradient, dX = Wᵀ dY) on shapes of our
// models' layers (W is [out, in], batch n = 128), beside the OpenBLAS sgemm of the same dense shape
// (BM_GemmDense) and the naive twins. Counters: FLOP/s (useful, 2 nnz n) and dense_FLOP/s (2 m k n).
#include <cmath>
#include <map>
#include <tuple>

#include <benchmark/benchmark.h>

#include "engine/kernels/gemm.h"
#include "engine/kernels/spmm.h"
#include "engine/kernels/spmm_transposed.h"
#include "engine/sparse/csr.h"
#include "tests/testutil/testutil.h"

namespace {

// One W per (m, k, density): large random patterns take seconds to draw, so each is drawn once.
const engine::CsrMatrix& Weights(int64_t m, int64_t k, int64_t density_pct) {
  static auto* cache = new std::map<std::tuple<int64_t, int64_t, int64_t>, engine::CsrMatrix>();
  auto it = cache->find({m, k, density_pct});
  if (it == cache->end()) {
    testutil::Rng rng(1);
    engine::CsrMatrix w = testutil::RandomCsr(m, k, density_pct / 100.0, rng);
    w.EnsureTransposeIndex();
    it = cache->emplace(std::make_tuple(m, k, density_pct), std::move(w)).first;
  }
  return it->second;
}

void SetCounters(benchmark::State& state, double useful_flops, double dense_flops) {
  const double iterations = static_cast<double>(state.iterations());
  state.counters["FLOP/s"] = benchmark::Counter(useful_flops * iterations, benchmark::Counter::kIsRate);
  state.counters["dense_FLOP/s"] = benchmark::Counter(dense_flops * iterations, benchmark::Counter::kIsRate);
}

// Y[m, n] = W[m, k] X[k, n].
void BM_SpmmCsr(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const engine::CsrMatrix& w = Weights(m, k, state.range(3));
  testutil::Rng rng(2);
  const engine::Tensor x = testutil::RandomDense({k, n}, rng);
  engine::Tensor y({m, n});
  const engine::CsrView view = w.view();
  for (auto _ : state) engine::kernels::SpmmCsr(view, x.view(), y.view());
  SetCounters(state, 2.0 * w.nnz() * n, 2.0 * m * k * n);
}

void BM_SpmmCsrNaive(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const engine::CsrMatrix& w = Weights(m, k, state.range(3));
  testutil::Rng rng(2);
  const engine::Tensor x = testutil::RandomDense({k, n}, rng);
  engine::Tensor y({m, n});
  for (auto _ : state) engine::kernels::SpmmCsrNaive(w.view(), x.view(), y.view());
  SetCounters(state, 2.0 * w.nnz() * n, 2.0 * m * k * n);
}

// dX[k, n] = Wᵀ dY[m, n]. With the transposed index (the path the sparse linear op uses): gather + forward kernel.
void TransposedCase(benchmark::State& state, bool with_index) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const engine::CsrMatrix& w = Weights(m, k, state.range(3));
  testutil::Rng rng(3);
  const engine::Tensor d_y = testutil::RandomDense({m, n}, rng);
  engine::Tensor d_x({k, n});
  const engine::CsrView view = w.view(with_index);
  for (auto _ : state) engine::kernels::SpmmCsrTransposed(view, d_y.view(), d_x.view());
  SetCounters(state, 2.0 * w.nnz() * n, 2.0 * m * k * n);
}
void BM_SpmmCsrTransposed(benchmark::State& state) { TransposedCase(state, /*with_index=*/true); }
// The fallback without the transposed index: row-ordered scatter into owned ranges of C.
void BM_SpmmCsrTransposedScatter(benchmark::State& state) { TransposedCase(state, /*with_index=*/false); }

void BM_SpmmCsrTransposedNaive(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const engine::CsrMatrix& w = Weights(m, k, state.range(3));
  testutil::Rng rng(3);
  const engine::Tensor d_y = testutil::RandomDense({m, n}, rng);
  engine::Tensor d_x({k, n});
  for (auto _ : state) engine::kernels::SpmmCsrTransposedNaive(w.view(), d_y.view(), d_x.view());
  SetCounters(state, 2.0 * w.nnz() * n, 2.0 * m * k * n);
}

// The dense baseline: Y[m, n] = W[m, k] X[k, n] with OpenBLAS sgemm.
void BM_GemmDense(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  testutil::Rng rng(4);
  const engine::Tensor w = testutil::RandomDense({m, k}, rng), x = testutil::RandomDense({k, n}, rng);
  engine::Tensor y({m, n});
  for (auto _ : state) engine::kernels::Gemm(false, false, 1.0f, w.view(), x.view(), 0.0f, y.view());
  SetCounters(state, 2.0 * m * k * n, 2.0 * m * k * n);
}

// Layer shapes [out, in] of MLP 784-300-100-10, MLP 784-4096-4096-10 and LeNet-5's fully connected layers.
constexpr int64_t kLayers[][2] = {{300, 784}, {100, 300}, {10, 100}, {4096, 784}, {4096, 4096}, {10, 4096},
                                  {120, 400}, {84, 120},  {10, 84}};
constexpr int64_t kBatch = 128;

void SparseShapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"m", "k", "n", "density_pct"});
  for (int64_t pct : {50, 20, 10, 5, 2, 1}) b->Args({4096, 4096, kBatch, pct});
  for (const auto& layer : kLayers) {
    if (layer[0] == 4096 && layer[1] == 4096) continue;  // already above
    b->Args({layer[0], layer[1], kBatch, 10});            // 90% sparse layers
  }
}

void NaiveShapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"m", "k", "n", "density_pct"});
  b->Args({4096, 4096, kBatch, 1});
  b->Args({300, 784, kBatch, 10});
}

void DenseShapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"m", "k", "n"});
  for (const auto& layer : kLayers) b->Args({layer[0], layer[1], kBatch});
}

BENCHMARK(BM_GemmDense)->Apply(DenseShapes)->UseRealTime();
BENCHMARK(BM_SpmmCsr)->Apply(SparseShapes)->UseRealTime();
BENCHMARK(BM_SpmmCsrTransposed)->Apply(SparseShapes)->UseRealTime();
BENCHMARK(BM_SpmmCsrTransposedScatter)->Apply(SparseShapes)->UseRealTime();
BENCHMARK(BM_SpmmCsrNaive)->Apply(NaiveShapes)->UseRealTime();
BENCHMARK(BM_SpmmCsrTransposedNaive)->Apply(NaiveShapes)->UseRealTime();

}  // namespace
