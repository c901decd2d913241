// Benchmarks of SddmmCsr (weight gradient on the pattern, dW = (dY Xᵀ) at nnz) on our models' layer shapes
// (pattern [out, in], batch n = 128), beside the dense OpenBLAS dY Xᵀ of the same shape (BM_GemmDenseNT) and the
// naive twin. Counters: FLOP/s (useful, 2 nnz n) and dense_FLOP/s (2 m k n).
#include <vector>

#include <benchmark/benchmark.h>

#include "bench/kernels/kernel_bench.h"
#include "engine/kernels/sddmm.h"
#include "engine/sparse/csr.h"
#include "tests/testutil/testutil.h"

namespace {

using bench::BM_GemmDenseNT;

using bench::CachedCsr;
using bench::DenseShapes;
using bench::NaiveShapes;
using bench::SetCounters;
using bench::SparseShapes;


// d_w[p] = <dY[i, :], X[j, :]> for each stored (i, j); dY [m, n], X [k, n].
template <void (*Kernel)(const engine::CsrView&, engine::ConstDenseView, engine::ConstDenseView, float*),
          bench::CsrSource Source = CachedCsr>
void BM_Sddmm(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const engine::CsrMatrix& pattern = Source(m, k, state.range(3));
  testutil::Rng rng(2);
  const engine::Tensor d_y = testutil::RandomDense({m, n}, rng), x = testutil::RandomDense({k, n}, rng);
  std::vector<float> d_w(pattern.nnz());
  const engine::CsrView view = pattern.view();
  for (auto _ : state) Kernel(view, d_y.view(), x.view(), d_w.data());
  SetCounters(state, 2.0 * pattern.nnz() * n, 2.0 * m * k * n);
}
void BM_SddmmCsr(benchmark::State& state) { BM_Sddmm<engine::kernels::SddmmCsr>(state); }
void BM_SddmmCsrNaive(benchmark::State& state) { BM_Sddmm<engine::kernels::SddmmCsrNaive>(state); }
// The beyond-dense layer: X beyond the cache (the shared-slab path).
void BM_SddmmCsrWide(benchmark::State& state) {
  BM_Sddmm<engine::kernels::SddmmCsr, bench::CachedCsrNnz>(state);
}

BENCHMARK(BM_GemmDenseNT)->Apply(DenseShapes)->UseRealTime();
BENCHMARK(BM_SddmmCsr)->Apply(SparseShapes)->UseRealTime();
BENCHMARK(BM_SddmmCsrNaive)->Apply(NaiveShapes)->UseRealTime();
BENCHMARK(BM_SddmmCsrWide)->Apply(bench::WideShapes)->UseRealTime();

}  // namespace
