// Benchmarks of SpmmCsrTransposed (the input gradient dX = Wᵀ dY) on shapes of our models' layers (W is [out, in],
// batch n = 128): through the transposed index (the path the sparse linear op takes: a gather of the values, then
// the forward kernel), through the row-ordered scatter (no index), its naive twin and the beyond-dense layer, beside
// the OpenBLAS sgemm of the same shape, Wᵀ dY (BM_GemmDenseTN, arguments m k n of W as for the sparse runs).
#include <benchmark/benchmark.h>

#include "bench/kernels/kernel_bench.h"
#include "engine/kernels/spmm_transposed.h"
#include "engine/sparse/csr.h"
#include "tests/testutil/testutil.h"

namespace {

using bench::BM_GemmDenseTN;

using bench::CsrSource;

enum class Path { kIndex, kScatter, kNaive };

// dX[k, n] = Wᵀ dY[m, n].
template <CsrSource Source = bench::CachedCsr>
void TransposedCase(benchmark::State& state, Path path) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const engine::CsrMatrix& w = Source(m, k, state.range(3));
  testutil::Rng rng(3);
  const engine::Tensor d_y = testutil::RandomDense({m, n}, rng);
  engine::Tensor d_x({k, n});
  const engine::CsrView view = w.view(/*with_transpose=*/path == Path::kIndex);
  for (auto _ : state) {
    if (path == Path::kNaive) {
      engine::kernels::SpmmCsrTransposedNaive(view, d_y.view(), d_x.view());
    } else {
      engine::kernels::SpmmCsrTransposed(view, d_y.view(), d_x.view());
    }
  }
  bench::SetCounters(state, 2.0 * w.nnz() * n, 2.0 * m * k * n);
}
void BM_SpmmCsrTransposed(benchmark::State& state) { TransposedCase(state, Path::kIndex); }
void BM_SpmmCsrTransposedScatter(benchmark::State& state) { TransposedCase(state, Path::kScatter); }
void BM_SpmmCsrTransposedNaive(benchmark::State& state) { TransposedCase(state, Path::kNaive); }
void BM_SpmmCsrTransposedWide(benchmark::State& state) { TransposedCase<bench::CachedCsrNnz>(state, Path::kIndex); }

BENCHMARK(BM_GemmDenseTN)->Apply(bench::DenseShapes)->UseRealTime();
BENCHMARK(BM_SpmmCsrTransposed)->Apply(bench::SparseShapes)->UseRealTime();
BENCHMARK(BM_SpmmCsrTransposedScatter)->Apply(bench::SparseShapes)->UseRealTime();
BENCHMARK(BM_SpmmCsrTransposedNaive)->Apply(bench::NaiveShapes)->UseRealTime();
BENCHMARK(BM_SpmmCsrTransposedWide)->Apply(bench::WideShapes)->UseRealTime();

}  // namespace
