// Benchmarks of the sparse convolution kernels (forward, input gradient, weight gradient, and the three together
// as one training step) on layers of our models, beside the dense im2col + OpenBLAS convolution of the same shape
// (BM_Conv2dDense*) and a naive twin. Counters: FLOP/s (useful, 2 nnz N P Q) and dense_FLOP/s (2 K C R S N P Q).
// Compare time(sparse) / time(dense) of the same layer and direction; both run in this binary.
#include <cstdint>
#include <map>
#include <utility>

#include <benchmark/benchmark.h>

#include "engine/kernels/conv2d.h"
#include "engine/kernels/sparse_conv2d.h"
#include "engine/sparse/csr.h"
#include "tests/testutil/testutil.h"

namespace {

using engine::Tensor;
using engine::kernels::Conv2dParams;

// Layers, batch 128: LeNet-5 conv2 (0), the three stride-1 3x3 convs of WRN-22-2 (CIFAR, widths 32/64/128: 1-3) and
// its stride-2 transition conv into group 2 (4).
Conv2dParams Layer(int64_t id) {
  Conv2dParams p;
  p.batch = 128;
  p.kernel_h = p.kernel_w = 3;
  p.pad = 1;
  switch (id) {
    case 0:  // LeNet-5 conv2: 6->16 5x5 on 14x14, no padding
      p.in_channels = 6, p.out_channels = 16, p.in_h = p.in_w = 14, p.kernel_h = p.kernel_w = 5, p.pad = 0;
      break;
    case 1:  // WRN-22-2 group 1: 32->32 on 32x32
      p.in_channels = p.out_channels = 32, p.in_h = p.in_w = 32;
      break;
    case 2:  // group 2: 64->64 on 16x16
      p.in_channels = p.out_channels = 64, p.in_h = p.in_w = 16;
      break;
    case 4:  // group 2's first conv: 32->64 3x3 stride 2 on 32x32 (phase planes; direct input gradient)
      p.in_channels = 32, p.out_channels = 64, p.in_h = p.in_w = 32, p.stride = 2;
      break;
    case 3:  // group 3: 128->128 on 8x8
      p.in_channels = p.out_channels = 128, p.in_h = p.in_w = 8;
      break;
  }
  return p;
}

// Operands of one layer, drawn once.
struct Operands {
  Conv2dParams p;
  Tensor x, y, d_y, d_x, w_dense, d_w_dense;
};
Operands& OperandsFor(int64_t layer) {
  static auto* cache = new std::map<int64_t, Operands>();
  auto it = cache->find(layer);
  if (it != cache->end()) return it->second;
  Operands o;
  o.p = Layer(layer);
  const Conv2dParams& p = o.p;
  testutil::Rng rng(5);
  o.x = testutil::RandomDense({p.in_channels, p.batch * p.in_h * p.in_w}, rng);
  o.d_y = testutil::RandomDense({p.out_channels, p.batch * p.out_h() * p.out_w()}, rng);
  o.y = Tensor({p.out_channels, p.batch * p.out_h() * p.out_w()});
  o.d_x = Tensor({p.in_channels, p.batch * p.in_h * p.in_w});
  o.w_dense = testutil::RandomDense({p.out_channels, p.filter_size()}, rng);
  o.d_w_dense = Tensor({p.out_channels, p.filter_size()});
  return cache->emplace(layer, std::move(o)).first->second;
}

const engine::CsrMatrix& Weights(int64_t layer, int64_t density_pct) {
  static auto* cache = new std::map<std::pair<int64_t, int64_t>, engine::CsrMatrix>();
  auto it = cache->find({layer, density_pct});
  if (it == cache->end()) {
    const Conv2dParams p = Layer(layer);
    testutil::Rng rng(1);
    engine::CsrMatrix w = testutil::RandomCsr(p.out_channels, p.filter_size(), density_pct / 100.0, rng);
    w.EnsureTransposeIndex();
    it = cache->emplace(std::make_pair(layer, density_pct), std::move(w)).first;
  }
  return it->second;
}

void SetCounters(benchmark::State& state, const Conv2dParams& p, double nnz, double passes) {
  const double pixels = static_cast<double>(p.batch * p.out_h() * p.out_w()), it = state.iterations();
  state.counters["FLOP/s"] = benchmark::Counter(passes * 2.0 * nnz * pixels * it, benchmark::Counter::kIsRate);
  state.counters["dense_FLOP/s"] = benchmark::Counter(
      passes * 2.0 * p.out_channels * p.filter_size() * pixels * it, benchmark::Counter::kIsRate);
}

// --- sparse: args {layer, density_pct} ---

void BM_SparseConv2dForward(benchmark::State& state) {
  Operands& o = OperandsFor(state.range(0));
  const engine::CsrMatrix& w = Weights(state.range(0), state.range(1));
  for (auto _ : state) engine::kernels::SparseConv2dForward(o.p, w.view(), o.x.view(), o.y.view());
  SetCounters(state, o.p, w.nnz(), 1);
}

void BM_SparseConv2dBackwardInput(benchmark::State& state) {
  Operands& o = OperandsFor(state.range(0));
  const engine::CsrMatrix& w = Weights(state.range(0), state.range(1));
  for (auto _ : state) engine::kernels::SparseConv2dBackwardInput(o.p, w.view(true), o.d_y.view(), o.d_x.view());
  SetCounters(state, o.p, w.nnz(), 1);
}

void BM_SparseConv2dBackwardWeight(benchmark::State& state) {
  Operands& o = OperandsFor(state.range(0));
  const engine::CsrMatrix& w = Weights(state.range(0), state.range(1));
  std::vector<float> d_w(static_cast<size_t>(w.nnz()) + 1);
  for (auto _ : state) {
    engine::kernels::SparseConv2dBackwardWeight(o.p, w.view(), o.d_y.view(), o.x.view(), d_w.data());
  }
  SetCounters(state, o.p, w.nnz(), 1);
}

// Forward + input gradient + weight gradient: the conv part of one training step.
void BM_SparseConv2dStep(benchmark::State& state) {
  Operands& o = OperandsFor(state.range(0));
  const engine::CsrMatrix& w = Weights(state.range(0), state.range(1));
  std::vector<float> d_w(static_cast<size_t>(w.nnz()) + 1);
  for (auto _ : state) {
    engine::kernels::SparseConv2dForward(o.p, w.view(), o.x.view(), o.y.view());
    engine::kernels::SparseConv2dBackwardInput(o.p, w.view(true), o.d_y.view(), o.d_x.view());
    engine::kernels::SparseConv2dBackwardWeight(o.p, w.view(), o.d_y.view(), o.x.view(), d_w.data());
  }
  SetCounters(state, o.p, w.nnz(), 3);
}

void BM_SparseConv2dForwardNaive(benchmark::State& state) {
  Operands& o = OperandsFor(state.range(0));
  const engine::CsrMatrix& w = Weights(state.range(0), state.range(1));
  for (auto _ : state) engine::kernels::SparseConv2dForwardNaive(o.p, w.view(), o.x.view(), o.y.view());
  SetCounters(state, o.p, w.nnz(), 1);
}

// --- dense baseline (im2col + OpenBLAS sgemm): args {layer} ---

void BM_Conv2dDenseForward(benchmark::State& state) {
  Operands& o = OperandsFor(state.range(0));
  for (auto _ : state) engine::kernels::Conv2dForward(o.p, o.w_dense.view(), o.x.view(), o.y.view());
  SetCounters(state, o.p, static_cast<double>(o.p.out_channels * o.p.filter_size()), 1);
}

void BM_Conv2dDenseBackwardInput(benchmark::State& state) {
  Operands& o = OperandsFor(state.range(0));
  for (auto _ : state) engine::kernels::Conv2dBackwardInput(o.p, o.w_dense.view(), o.d_y.view(), o.d_x.view());
  SetCounters(state, o.p, static_cast<double>(o.p.out_channels * o.p.filter_size()), 1);
}

void BM_Conv2dDenseBackwardWeight(benchmark::State& state) {
  Operands& o = OperandsFor(state.range(0));
  for (auto _ : state) engine::kernels::Conv2dBackwardWeight(o.p, o.d_y.view(), o.x.view(), o.d_w_dense.view());
  SetCounters(state, o.p, static_cast<double>(o.p.out_channels * o.p.filter_size()), 1);
}

void BM_Conv2dDenseStep(benchmark::State& state) {
  Operands& o = OperandsFor(state.range(0));
  for (auto _ : state) {
    engine::kernels::Conv2dForward(o.p, o.w_dense.view(), o.x.view(), o.y.view());
    engine::kernels::Conv2dBackwardInput(o.p, o.w_dense.view(), o.d_y.view(), o.d_x.view());
    engine::kernels::Conv2dBackwardWeight(o.p, o.d_y.view(), o.x.view(), o.d_w_dense.view());
  }
  SetCounters(state, o.p, static_cast<double>(o.p.out_channels * o.p.filter_size()), 3);
}

void SparseArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"layer", "density_pct"});
  for (int64_t layer = 0; layer < 5; ++layer) {
    for (int64_t density : {50, 20, 10, 5, 1}) b->Args({layer, density});
  }
  b->UseRealTime();  // OpenMP: CPU time would sum over threads
}

void DenseArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"layer"})->DenseRange(0, 4)->UseRealTime();
}

BENCHMARK(BM_Conv2dDenseForward)->Apply(DenseArgs);
BENCHMARK(BM_SparseConv2dForward)->Apply(SparseArgs);
BENCHMARK(BM_Conv2dDenseBackwardInput)->Apply(DenseArgs);
BENCHMARK(BM_SparseConv2dBackwardInput)->Apply(SparseArgs);
BENCHMARK(BM_Conv2dDenseBackwardWeight)->Apply(DenseArgs);
BENCHMARK(BM_SparseConv2dBackwardWeight)->Apply(SparseArgs);
BENCHMARK(BM_Conv2dDenseStep)->Apply(DenseArgs);
BENCHMARK(BM_SparseConv2dStep)->Apply(SparseArgs);
BENCHMARK(BM_SparseConv2dForwardNaive)->ArgNames({"layer", "density_pct"})->Args({0, 10})->UseRealTime();

}  // namespace
