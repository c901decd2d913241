// Benchmarks of the sparse convolution kernels (forward, input gradient, weight gradient, and the three together
// as one training step) on layers of our models, beside the dense im2col + OpenBLAS convolution of the same shape
// (BM_Conv2dDense*, from kernel_bench.h) and a naive twin. Counters: FLOP/s (useful, 2 nnz N P Q) and dense_FLOP/s
// (2 K C R S N P Q). Compare time(sparse) / time(dense) of the same layer and direction; both run in this binary.
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench/kernels/kernel_bench.h"
#include "engine/kernels/sparse_conv2d.h"
#include "engine/sparse/csr.h"
#include "tests/testutil/testutil.h"

namespace {

using bench::BM_Conv2dDenseBackwardInput;
using bench::BM_Conv2dDenseBackwardWeight;
using bench::BM_Conv2dDenseForward;
using bench::BM_Conv2dDenseStep;

using bench::ConvOperands;
using bench::ConvOperandsFor;
using bench::SetConvCounters;

const engine::CsrMatrix& Weights(int64_t layer, int64_t density_pct) {
  static auto* cache = new std::map<std::pair<int64_t, int64_t>, engine::CsrMatrix>();
  auto it = cache->find({layer, density_pct});
  if (it == cache->end()) {
    const engine::kernels::Conv2dParams p = bench::ConvLayer(layer);
    testutil::Rng rng(1);
    engine::CsrMatrix w = testutil::RandomCsr(p.out_channels, p.filter_size(), density_pct / 100.0, rng);
    w.EnsureTransposeIndex();
    it = cache->emplace(std::make_pair(layer, density_pct), std::move(w)).first;
  }
  return it->second;
}

// Args {layer, density_pct}; phases: bit 0 forward, 1 input gradient, 2 weight gradient.
void SparseCase(benchmark::State& state, int phases) {
  ConvOperands& o = ConvOperandsFor(state.range(0));
  const engine::CsrMatrix& w = Weights(state.range(0), state.range(1));
  std::vector<float> d_w(static_cast<size_t>(w.nnz()) + 1);
  namespace k = engine::kernels;
  for (auto _ : state) {
    if (phases & 1) k::SparseConv2dForward(o.p, w.view(), o.x.view(), o.y.view());
    if (phases & 2) k::SparseConv2dBackwardInput(o.p, w.view(true), o.d_y.view(), o.d_x.view());
    if (phases & 4) k::SparseConv2dBackwardWeight(o.p, w.view(), o.d_y.view(), o.x.view(), d_w.data());
  }
  SetConvCounters(state, o.p, w.nnz(), (phases & 1) + ((phases >> 1) & 1) + ((phases >> 2) & 1));
}
void BM_SparseConv2dForward(benchmark::State& state) { SparseCase(state, 1); }
void BM_SparseConv2dBackwardInput(benchmark::State& state) { SparseCase(state, 2); }
void BM_SparseConv2dBackwardWeight(benchmark::State& state) { SparseCase(state, 4); }
void BM_SparseConv2dStep(benchmark::State& state) { SparseCase(state, 7); }  // the conv part of a training step

void BM_SparseConv2dForwardNaive(benchmark::State& state) {
  ConvOperands& o = ConvOperandsFor(state.range(0));
  const engine::CsrMatrix& w = Weights(state.range(0), state.range(1));
  for (auto _ : state) engine::kernels::SparseConv2dForwardNaive(o.p, w.view(), o.x.view(), o.y.view());
  SetConvCounters(state, o.p, w.nnz(), 1);
}

void SparseArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"layer", "density_pct"});
  for (int64_t layer = 0; layer < bench::kConvLayers; ++layer) {
    for (int64_t density : {50, 20, 10, 5, 1}) b->Args({layer, density});
  }
  b->UseRealTime();  // OpenMP: CPU time would sum over threads
}

BENCHMARK(BM_Conv2dDenseForward)->Apply(bench::ConvDenseArgs);
BENCHMARK(BM_SparseConv2dForward)->Apply(SparseArgs);
BENCHMARK(BM_Conv2dDenseBackwardInput)->Apply(bench::ConvDenseArgs);
BENCHMARK(BM_SparseConv2dBackwardInput)->Apply(SparseArgs);
BENCHMARK(BM_Conv2dDenseBackwardWeight)->Apply(bench::ConvDenseArgs);
BENCHMARK(BM_SparseConv2dBackwardWeight)->Apply(SparseArgs);
BENCHMARK(BM_Conv2dDenseStep)->Apply(bench::ConvDenseArgs);
BENCHMARK(BM_SparseConv2dStep)->Apply(SparseArgs);
BENCHMARK(BM_SparseConv2dForwardNaive)->ArgNames({"layer", "density_pct"})->Args({0, 10})->UseRealTime();

}  // namespace
