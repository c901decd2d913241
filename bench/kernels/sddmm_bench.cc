// Benchmarks of SddmmCsr (weight gradient on the pattern, dW = (dY Xᵀ) at nnz) on our models' layer shapes
// (pattern [out, in], batch n = 128), beside the dense OpenBLAS dY Xᵀ of the same shape (BM_GemmDense) and the
// naive twin. Counters: FLOP/s (useful, 2 nnz n) and dense_FLOP/s (2 m k n).
#include <map>
#include <tuple>
#include <vector>

#include <benchmark/benchmark.h>

#include "engine/kernels/gemm.h"
#include "engine/kernels/sddmm.h"
#include "engine/sparse/csr.h"
#include "tests/testutil/testutil.h"

namespace {

const engine::CsrMatrix& Pattern(int64_t m, int64_t k, int64_t density_pct) {
  static auto* cache = new std::map<std::tuple<int64_t, int64_t, int64_t>, engine::CsrMatrix>();
  auto it = cache->find({m, k, density_pct});
  if (it == cache->end()) {
    testutil::Rng rng(1);
    it = cache->emplace(std::make_tuple(m, k, density_pct), testutil::RandomCsr(m, k, density_pct / 100.0, rng))
             .first;
  }
  return it->second;
}

void SetCounters(benchmark::State& state, double useful_flops, double dense_flops) {
  const double iterations = static_cast<double>(state.iterations());
  state.counters["FLOP/s"] = benchmark::Counter(useful_flops * iterations, benchmark::Counter::kIsRate);
  state.counters["dense_FLOP/s"] = benchmark::Counter(dense_flops * iterations, benchmark::Counter::kIsRate);
}

// d_w[p] = <dY[i, :], X[j, :]> for each stored (i, j); dY [m, n], X [k, n].
template <void (*Kernel)(const engine::CsrView&, engine::ConstDenseView, engine::ConstDenseView, float*)>
void BM_Sddmm(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const engine::CsrMatrix& pattern = Pattern(m, k, state.range(3));
  testutil::Rng rng(2);
  const engine::Tensor d_y = testutil::RandomDense({m, n}, rng), x = testutil::RandomDense({k, n}, rng);
  std::vector<float> d_w(pattern.nnz());
  const engine::CsrView view = pattern.view();
  for (auto _ : state) Kernel(view, d_y.view(), x.view(), d_w.data());
  SetCounters(state, 2.0 * pattern.nnz() * n, 2.0 * m * k * n);
}
void BM_SddmmCsr(benchmark::State& state) { BM_Sddmm<engine::kernels::SddmmCsr>(state); }
void BM_SddmmCsrNaive(benchmark::State& state) { BM_Sddmm<engine::kernels::SddmmCsrNaive>(state); }

// The dense baseline: dW[m, k] = dY[m, n] X[k, n]ᵀ with OpenBLAS sgemm.
void BM_GemmDense(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  testutil::Rng rng(4);
  const engine::Tensor d_y = testutil::RandomDense({m, n}, rng), x = testutil::RandomDense({k, n}, rng);
  engine::Tensor d_w({m, k});
  for (auto _ : state) engine::kernels::Gemm(false, true, 1.0f, d_y.view(), x.view(), 0.0f, d_w.view());
  SetCounters(state, 2.0 * m * k * n, 2.0 * m * k * n);
}

constexpr int64_t kLayers[][2] = {{300, 784}, {100, 300}, {10, 100}, {4096, 784}, {4096, 4096}, {10, 4096},
                                  {120, 400}, {84, 120},  {10, 84}};
constexpr int64_t kBatch = 128;

void SparseShapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"m", "k", "n", "density_pct"});
  for (int64_t pct : {50, 20, 10, 5, 2, 1}) b->Args({4096, 4096, kBatch, pct});
  for (const auto& layer : kLayers) {
    if (layer[0] == 4096 && layer[1] == 4096) continue;
    b->Args({layer[0], layer[1], kBatch, 10});
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
BENCHMARK(BM_SddmmCsr)->Apply(SparseShapes)->UseRealTime();
BENCHMARK(BM_SddmmCsrNaive)->Apply(NaiveShapes)->UseRealTime();

}  // namespace
