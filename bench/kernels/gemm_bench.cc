// Benchmarks of the Gemm family (engine/kernels/gemm: OpenBLAS sgemm, C cut into shape-fixed blocks by us so results
// do not depend on the thread count) on our layers' three products, forward (BM_GemmDense), input gradient
// (BM_GemmDenseTN) and weight gradient (BM_GemmDenseNT); beside the same forward product left to OpenBLAS's own
// threads (BM_CblasOpenBlasThreads: what the deterministic split costs or gains) and a naive triple loop. Arguments
// m, k, n of a layer W [m, k] at batch n. Counters: FLOP/s (2 m k n).
#include <cblas.h>
#include <omp.h>

#include <benchmark/benchmark.h>

#include "bench/kernels/kernel_bench.h"
#include "engine/kernels/gemm.h"

namespace {

using bench::BM_GemmDense;
using bench::BM_GemmDenseNT;
using bench::BM_GemmDenseTN;

// Y = W X by one cblas_sgemm call from outside any parallel region: OpenBLAS splits it over its OpenMP threads.
void BM_CblasOpenBlasThreads(benchmark::State& state) {
  bench::GemmOperands o = bench::MakeGemmOperands(state, bench::Product::kForward);
  const int m = static_cast<int>(o.m), k = static_cast<int>(o.k), n = static_cast<int>(o.n);
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, o.w.data(), k, o.x.data(), n, 0.0f,
                o.y.data(), n);
  }
  bench::SetCounters(state, o.flops(), o.flops());
}

// The naive twin: Y[i, j] = sum_t W[i, t] X[t, j], one thread, float accumulation.
void BM_GemmNaive(benchmark::State& state) {
  bench::GemmOperands o = bench::MakeGemmOperands(state, bench::Product::kForward);
  const int64_t m = o.m, k = o.k, n = o.n;
  const engine::Tensor& w = o.w;
  const engine::Tensor& x = o.x;
  engine::Tensor& y = o.y;
  for (auto _ : state) {
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        float sum = 0.0f;
        for (int64_t t = 0; t < k; ++t) sum += w[i * k + t] * x[t * n + j];
        y[i * n + j] = sum;
      }
    }
    benchmark::DoNotOptimize(y.data());
  }
  bench::SetCounters(state, o.flops(), o.flops());
}

BENCHMARK(BM_GemmDense)->Apply(bench::DenseShapes)->UseRealTime();
BENCHMARK(BM_GemmDenseTN)->Apply(bench::DenseShapes)->UseRealTime();
BENCHMARK(BM_GemmDenseNT)->Apply(bench::DenseShapes)->UseRealTime();
BENCHMARK(BM_CblasOpenBlasThreads)->Apply(bench::DenseShapes)->UseRealTime();
BENCHMARK(BM_GemmNaive)->ArgNames({"m", "k", "n"})->Args({300, 784, 128})->Args({100, 300, 128})->UseRealTime();

}  // namespace
