// Shared by the CSR kernel benchmarks (spmm_bench, sddmm_bench): the layer shapes they run, a cache of random CSR
// operands (large patterns take a while to draw, so each is drawn once per process) and the FLOP/s counters.
#ifndef BENCH_KERNELS_CSR_BENCH_SHAPES_H_
#define BENCH_KERNELS_CSR_BENCH_SHAPES_H_

#include <cstdint>
#include <map>
#include <tuple>

#include <benchmark/benchmark.h>

#include "engine/sparse/csr.h"
#include "tests/testutil/testutil.h"

namespace bench {

// Layer shapes [out, in] of MLP 784-300-100-10, MLP 784-4096-4096-10 and LeNet-5's fully connected layers.
inline constexpr int64_t kLayers[][2] = {{300, 784},   {100, 300}, {10, 100}, {4096, 784}, {4096, 4096},
                                         {10, 4096},  {120, 400}, {84, 120}, {10, 84}};
inline constexpr int64_t kBatch = 128;

// One random CSR operand per (m, k, density), values in [-1, 1), with its transposed index built.
inline const engine::CsrMatrix& CachedCsr(int64_t m, int64_t k, int64_t density_pct) {
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

// Where a benchmark gets its sparse operand from its arguments (m, k, and density_pct for CachedCsr or nnz for
// CachedCsrNnz).
using CsrSource = const engine::CsrMatrix& (*)(int64_t m, int64_t k, int64_t density_or_nnz);

// One exact-count random CSR operand per (m, k, nnz) (CsrMatrix::RandomPattern, O(nnz) memory and time: for layers
// whose rows x cols positions cannot be visited one by one), values in [-1, 1), with its transposed index built.
inline const engine::CsrMatrix& CachedCsrNnz(int64_t m, int64_t k, int64_t nnz) {
  static auto* cache = new std::map<std::tuple<int64_t, int64_t, int64_t>, engine::CsrMatrix>();
  auto it = cache->find({m, k, nnz});
  if (it == cache->end()) {
    testutil::Rng rng(1);
    engine::CsrMatrix w = engine::CsrMatrix::RandomPattern(m, k, nnz, rng);
    for (float& v : w.mutable_values()) v = rng.UniformFloat(-1.0f, 1.0f);
    w.EnsureTransposeIndex();
    it = cache->emplace(std::make_tuple(m, k, nnz), std::move(w)).first;
  }
  return it->second;
}

// FLOP/s counts useful work (2 nnz n); dense_FLOP/s the dense-equivalent work (2 m k n) of the same shape.
inline void SetCounters(benchmark::State& state, double useful_flops, double dense_flops) {
  const double iterations = static_cast<double>(state.iterations());
  state.counters["FLOP/s"] = benchmark::Counter(useful_flops * iterations, benchmark::Counter::kIsRate);
  state.counters["dense_FLOP/s"] = benchmark::Counter(dense_flops * iterations, benchmark::Counter::kIsRate);
}

// W 4096 x 4096 at densities 0.5 .. 0.01, and every other layer shape at density 0.1.
inline void SparseShapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"m", "k", "n", "density_pct"});
  for (int64_t pct : {50, 20, 10, 5, 2, 1}) b->Args({4096, 4096, kBatch, pct});
  for (const auto& layer : kLayers) {
    if (layer[0] == 4096 && layer[1] == 4096) continue;  // already above
    b->Args({layer[0], layer[1], kBatch, 10});            // 90% sparse layers
  }
}

// The beyond-dense layer (docs/BEYOND_DENSE.md): fc2 of 784-100000-100000-10 at its ERK density 0.000604, whose
// 100000 x 128 activations (51 MB) exceed the L3. Arguments m, k, n, nnz (for CachedCsrNnz).
inline void WideShapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"m", "k", "n", "nnz"});
  b->Args({100000, 100000, kBatch, 6037157});
}

// The naive twins are slow: two shapes only.
inline void NaiveShapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"m", "k", "n", "density_pct"});
  b->Args({4096, 4096, kBatch, 1});
  b->Args({300, 784, kBatch, 10});
}

inline void DenseShapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"m", "k", "n"});
  for (const auto& layer : kLayers) b->Args({layer[0], layer[1], kBatch});
}

}  // namespace bench

#endif  // BENCH_KERNELS_CSR_BENCH_SHAPES_H_
