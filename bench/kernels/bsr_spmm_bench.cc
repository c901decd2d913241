// Benchmarks of the BSR kernels on W 4096 x 4096, batch n = 128, block shapes 4x1, 8x1, 4x4 at densities 50% to
// 1% (density = fraction of stored entries): SpmmBsr, SpmmBsrTransposed and SddmmBsr (one family, one source file,
// engine/kernels/bsr_spmm), each beside the OpenBLAS sgemm of the same product (BM_GemmDense, TN, NT) and its naive
// twin. Counters: FLOP/s (useful, 2 * stored entries * n) and dense_FLOP/s (2 m k n).
#include <cmath>
#include <map>
#include <tuple>

#include <benchmark/benchmark.h>

#include "bench/kernels/kernel_bench.h"
#include "engine/kernels/bsr_spmm.h"
#include "engine/sparse/bsr.h"
#include "tests/testutil/testutil.h"

namespace {

using bench::BM_GemmDense;
using bench::BM_GemmDenseNT;
using bench::BM_GemmDenseTN;

// One W per (m, k, block shape, density), drawn once; values in [-1, 1).
const engine::BsrMatrix& Weights(int64_t m, int64_t k, int64_t br, int64_t bc, int64_t density_pct) {
  static auto* cache = new std::map<std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t>, engine::BsrMatrix>();
  const auto key = std::make_tuple(m, k, br, bc, density_pct);
  auto it = cache->find(key);
  if (it == cache->end()) {
    testutil::Rng rng(1);
    engine::BsrMatrix probe(m, k, br, bc);
    const double grid = static_cast<double>(probe.row_blocks() * probe.col_blocks());
    engine::BsrMatrix w = engine::BsrMatrix::RandomPattern(
        m, k, br, bc, static_cast<int64_t>(std::llround(density_pct / 100.0 * grid)), rng);
    for (float& v : w.mutable_values()) v = rng.UniformFloat(-1.0f, 1.0f);
    w.EnsureTransposeIndex();
    it = cache->emplace(key, std::move(w)).first;
  }
  return it->second;
}

using bench::SetCounters;

// Args: m, k, n, block_rows, block_cols, density_pct.
#define BSR_SETUP()                                                                           \
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);                    \
  const engine::BsrMatrix& w = Weights(m, k, state.range(3), state.range(4), state.range(5)); \
  testutil::Rng rng(2)

// Y[m, n] = W[m, k] X[k, n].
void BM_SpmmBsr(benchmark::State& state) {
  BSR_SETUP();
  const engine::Tensor x = testutil::RandomDense({k, n}, rng);
  engine::Tensor y({m, n});
  const engine::BsrView view = w.view();
  for (auto _ : state) engine::kernels::SpmmBsr(view, x.view(), y.view());
  SetCounters(state, 2.0 * w.entries() * n, 2.0 * m * k * n);
}

void BM_SpmmBsrNaive(benchmark::State& state) {
  BSR_SETUP();
  const engine::Tensor x = testutil::RandomDense({k, n}, rng);
  engine::Tensor y({m, n});
  for (auto _ : state) engine::kernels::SpmmBsrNaive(w.view(), x.view(), y.view());
  SetCounters(state, 2.0 * w.entries() * n, 2.0 * m * k * n);
}

// dX[k, n] = Wᵀ dY[m, n].
void BM_SpmmBsrTransposed(benchmark::State& state) {
  BSR_SETUP();
  const engine::Tensor d_y = testutil::RandomDense({m, n}, rng);
  engine::Tensor d_x({k, n});
  const engine::BsrView view = w.view(/*with_transpose=*/true);
  for (auto _ : state) engine::kernels::SpmmBsrTransposed(view, d_y.view(), d_x.view());
  SetCounters(state, 2.0 * w.entries() * n, 2.0 * m * k * n);
}

// dW at the stored blocks = (dY Xᵀ) sampled.
void BM_SddmmBsr(benchmark::State& state) {
  BSR_SETUP();
  const engine::Tensor d_y = testutil::RandomDense({m, n}, rng);
  const engine::Tensor x = testutil::RandomDense({k, n}, rng);
  engine::AlignedVector<float> d_w(w.values().size());
  const engine::BsrView view = w.view();
  for (auto _ : state) engine::kernels::SddmmBsr(view, d_y.view(), x.view(), d_w.data());
  SetCounters(state, 2.0 * w.entries() * n, 2.0 * m * k * n);
}

// Naive twins of the transposed product and the SDDMM (plain loops over the blocks).
void BM_SpmmBsrTransposedNaive(benchmark::State& state) {
  BSR_SETUP();
  const engine::Tensor d_y = testutil::RandomDense({m, n}, rng);
  engine::Tensor d_x({k, n});
  for (auto _ : state) engine::kernels::SpmmBsrTransposedNaive(w.view(true), d_y.view(), d_x.view());
  SetCounters(state, 2.0 * w.entries() * n, 2.0 * m * k * n);
}

void BM_SddmmBsrNaive(benchmark::State& state) {
  BSR_SETUP();
  const engine::Tensor d_y = testutil::RandomDense({m, n}, rng);
  const engine::Tensor x = testutil::RandomDense({k, n}, rng);
  engine::AlignedVector<float> d_w(w.values().size());
  for (auto _ : state) engine::kernels::SddmmBsrNaive(w.view(), d_y.view(), x.view(), d_w.data());
  SetCounters(state, 2.0 * w.entries() * n, 2.0 * m * k * n);
}

void BsrArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"m", "k", "n", "block_rows", "block_cols", "density_pct"});
  for (const auto& [br, bc] : {std::pair<int64_t, int64_t>{4, 1}, {8, 1}, {4, 4}}) {
    for (const int64_t density_pct : {50, 20, 10, 5, 2, 1}) b->Args({4096, 4096, 128, br, bc, density_pct});
  }
  b->UseRealTime();  // OpenMP: CPU time would sum over threads
}

BENCHMARK(BM_GemmDense)->ArgNames({"m", "k", "n"})->Args({4096, 4096, 128})->UseRealTime();
BENCHMARK(BM_GemmDenseTN)->ArgNames({"m", "k", "n"})->Args({4096, 4096, 128})->UseRealTime();
BENCHMARK(BM_GemmDenseNT)->ArgNames({"m", "k", "n"})->Args({4096, 4096, 128})->UseRealTime();
BENCHMARK(BM_SpmmBsr)->Apply(BsrArgs);
BENCHMARK(BM_SpmmBsrTransposed)->Apply(BsrArgs);
BENCHMARK(BM_SddmmBsr)->Apply(BsrArgs);
// The naive twins on one shape each: they are slow.
void NaiveArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"m", "k", "n", "block_rows", "block_cols", "density_pct"})->Args({4096, 4096, 128, 4, 1, 10});
  b->UseRealTime();
}
BENCHMARK(BM_SpmmBsrNaive)->Apply(NaiveArgs);
BENCHMARK(BM_SpmmBsrTransposedNaive)->Apply(NaiveArgs);
BENCHMARK(BM_SddmmBsrNaive)->Apply(NaiveArgs);

}  // namespace
