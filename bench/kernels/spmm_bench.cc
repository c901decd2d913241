// Benchmarks of SpmmCsr (forward, Y = W X) and SpmmCsrTransposed (input gradient, dX = Wᵀ dY) on shapes of our
// models' layers (W is [out, in], batch n = 128), beside the OpenBLAS sgemm of the same dense shape
// (BM_GemmDense) and the naive twins. Counters: FLOP/s (useful, 2 nnz n) and dense_FLOP/s (2 m k n).
#include <cmath>
#include <map>
#include <tuple>

#include <benchmark/benchmark.h>

#include "bench/kernels/csr_bench_shapes.h"
#include "engine/kernels/gemm.h"
#include "engine/kernels/spmm.h"
#include "engine/kernels/spmm_transposed.h"
#include "engine/sparse/csr.h"
#include "tests/testutil/testutil.h"

namespace {

using bench::CachedCsr;
using bench::CsrSource;
using bench::DenseShapes;
using bench::NaiveShapes;
using bench::SetCounters;
using bench::SparseShapes;

// Y[m, n] = W[m, k] X[k, n].
template <CsrSource Source>
void SpmmCase(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const engine::CsrMatrix& w = Source(m, k, state.range(3));
  testutil::Rng rng(2);
  const engine::Tensor x = testutil::RandomDense({k, n}, rng);
  engine::Tensor y({m, n});
  const engine::CsrView view = w.view();
  for (auto _ : state) engine::kernels::SpmmCsr(view, x.view(), y.view());
  SetCounters(state, 2.0 * w.nnz() * n, 2.0 * m * k * n);
}
void BM_SpmmCsr(benchmark::State& state) { SpmmCase<CachedCsr>(state); }

void BM_SpmmCsrNaive(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const engine::CsrMatrix& w = CachedCsr(m, k, state.range(3));
  testutil::Rng rng(2);
  const engine::Tensor x = testutil::RandomDense({k, n}, rng);
  engine::Tensor y({m, n});
  for (auto _ : state) engine::kernels::SpmmCsrNaive(w.view(), x.view(), y.view());
  SetCounters(state, 2.0 * w.nnz() * n, 2.0 * m * k * n);
}

// dX[k, n] = Wᵀ dY[m, n]. With the transposed index (the path the sparse linear op uses): gather + forward kernel.
template <CsrSource Source = CachedCsr>
void TransposedCase(benchmark::State& state, bool with_index) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const engine::CsrMatrix& w = Source(m, k, state.range(3));
  testutil::Rng rng(3);
  const engine::Tensor d_y = testutil::RandomDense({m, n}, rng);
  engine::Tensor d_x({k, n});
  const engine::CsrView view = w.view(with_index);
  for (auto _ : state) engine::kernels::SpmmCsrTransposed(view, d_y.view(), d_x.view());
  SetCounters(state, 2.0 * w.nnz() * n, 2.0 * m * k * n);
}
void BM_SpmmCsrTransposed(benchmark::State& state) { TransposedCase(state, /*with_index=*/true); }
// The beyond-dense layer: operands beyond the cache (the shared-slab path).
void BM_SpmmCsrWide(benchmark::State& state) { SpmmCase<bench::CachedCsrNnz>(state); }
void BM_SpmmCsrTransposedWide(benchmark::State& state) { TransposedCase<bench::CachedCsrNnz>(state, true); }
// The fallback without the transposed index: row-ordered scatter into owned ranges of C.
void BM_SpmmCsrTransposedScatter(benchmark::State& state) { TransposedCase(state, /*with_index=*/false); }

void BM_SpmmCsrTransposedNaive(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const engine::CsrMatrix& w = CachedCsr(m, k, state.range(3));
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

BENCHMARK(BM_GemmDense)->Apply(DenseShapes)->UseRealTime();
BENCHMARK(BM_SpmmCsr)->Apply(SparseShapes)->UseRealTime();
BENCHMARK(BM_SpmmCsrTransposed)->Apply(SparseShapes)->UseRealTime();
BENCHMARK(BM_SpmmCsrTransposedScatter)->Apply(SparseShapes)->UseRealTime();
BENCHMARK(BM_SpmmCsrNaive)->Apply(NaiveShapes)->UseRealTime();
BENCHMARK(BM_SpmmCsrTransposedNaive)->Apply(NaiveShapes)->UseRealTime();
BENCHMARK(BM_SpmmCsrWide)->Apply(bench::WideShapes)->UseRealTime();
BENCHMARK(BM_SpmmCsrTransposedWide)->Apply(bench::WideShapes)->UseRealTime();

}  // namespace
