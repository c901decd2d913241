// Benchmarks of SpmmCsr (forward, Y = W X) on shapes of our models' layers (W is [out, in], batch n = 128), beside
// the OpenBLAS sgemm of the same dense shape (BM_GemmDense), its naive twin, the beyond-dense layer, and the
// machine's FMA peak (BM_FmaPeak, the physical limit of report.py). Counters: FLOP/s (useful, 2 nnz n) and
// dense_FLOP/s (2 m k n).
#include <benchmark/benchmark.h>

#include "bench/kernels/kernel_bench.h"
#include "engine/kernels/spmm.h"
#include "engine/sparse/csr.h"
#include "tests/testutil/testutil.h"

namespace {

using bench::BM_GemmDense;
using bench::BM_FmaPeak;

using bench::CsrSource;

// Y[m, n] = W[m, k] X[k, n].
template <CsrSource Source, bool kNaive = false>
void SpmmCase(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const engine::CsrMatrix& w = Source(m, k, state.range(3));
  testutil::Rng rng(2);
  const engine::Tensor x = testutil::RandomDense({k, n}, rng);
  engine::Tensor y({m, n});
  const engine::CsrView view = w.view();
  for (auto _ : state) {
    if (kNaive) {
      engine::kernels::SpmmCsrNaive(view, x.view(), y.view());
    } else {
      engine::kernels::SpmmCsr(view, x.view(), y.view());
    }
  }
  bench::SetCounters(state, 2.0 * w.nnz() * n, 2.0 * m * k * n);
}
void BM_SpmmCsr(benchmark::State& state) { SpmmCase<bench::CachedCsr>(state); }
void BM_SpmmCsrNaive(benchmark::State& state) { SpmmCase<bench::CachedCsr, true>(state); }
// The beyond-dense layer: operands beyond the cache (the shared-slab path).
void BM_SpmmCsrWide(benchmark::State& state) { SpmmCase<bench::CachedCsrNnz>(state); }

BENCHMARK(BM_GemmDense)->Apply(bench::DenseShapes)->UseRealTime();
BENCHMARK(BM_SpmmCsr)->Apply(bench::SparseShapes)->UseRealTime();
BENCHMARK(BM_SpmmCsrNaive)->Apply(bench::NaiveShapes)->UseRealTime();
BENCHMARK(BM_SpmmCsrWide)->Apply(bench::WideShapes)->UseRealTime();
BENCHMARK(BM_FmaPeak)->UseRealTime();

}  // namespace
