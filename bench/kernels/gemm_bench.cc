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
#include "tests/testutil/testutil.h"

namespace {

using bench::BM_GemmDense;
using bench::BM_GemmDenseNT;
using bench::BM_GemmDenseTN;

// Y = W X by one cblas_sgemm call from outside any parallel region: OpenBLAS splits it over its OpenMP threads.
void BM_CblasOpenBlasThreads(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  testutil::Rng rng(4);
  const engine::Tensor w = testutil::RandomDense({m, k}, rng), x = testutil::RandomDense({k, n}, rng);
  engine::Tensor y({m, n});
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
                static_cast<int>(k), 1.0f, w.data(), static_cast<int>(k), x.data(), static_cast<int>(n), 0.0f,
                y.data(), static_cast<int>(n));
  }
  bench::SetCounters(state, 2.0 * m * k * n, 2.0 * m * k * n);
}

// The naive twin: Y[i, j] = sum_t W[i, t] X[t, j], one thread, float accumulation.
void BM_GemmNaive(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  testutil::Rng rng(4);
  const engine::Tensor w = testutil::RandomDense({m, k}, rng), x = testutil::RandomDense({k, n}, rng);
  engine::Tensor y({m, n});
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
  bench::SetCounters(state, 2.0 * m * k * n, 2.0 * m * k * n);
}

BENCHMARK(BM_GemmDense)->Apply(bench::DenseShapes)->UseRealTime();
BENCHMARK(BM_GemmDenseTN)->Apply(bench::DenseShapes)->UseRealTime();
BENCHMARK(BM_GemmDenseNT)->Apply(bench::DenseShapes)->UseRealTime();
BENCHMARK(BM_CblasOpenBlasThreads)->Apply(bench::DenseShapes)->UseRealTime();
BENCHMARK(BM_GemmNaive)->ArgNames({"m", "k", "n"})->Args({300, 784, 128})->Args({100, 300, 128})->UseRealTime();

}  // namespace
