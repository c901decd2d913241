// Benchmarks of the dense convolution family (engine/kernels/conv2d: im2col + OpenBLAS sgemm through Gemm's
// deterministic split) on layers of our models: forward, input gradient, weight gradient and the three as a step,
// beside its direct naive twins. Counters: FLOP/s (2 K C R S N P Q per pass; useful = dense here).
#include <benchmark/benchmark.h>

#include "bench/kernels/kernel_bench.h"
#include "engine/kernels/conv2d.h"

namespace {

using bench::BM_Conv2dDenseBackwardInput;
using bench::BM_Conv2dDenseBackwardWeight;
using bench::BM_Conv2dDenseForward;
using bench::BM_Conv2dDenseStep;

using bench::ConvOperands;

// The naive twins (seven plain loops) on LeNet-5 conv2 only: they are slow.
void NaiveCase(benchmark::State& state, int phase) {
  ConvOperands& o = bench::ConvOperandsFor(state.range(0));
  namespace k = engine::kernels;
  for (auto _ : state) {
    if (phase == 1) k::Conv2dForwardNaive(o.p, o.w_dense.view(), o.x.view(), o.y.view());
    if (phase == 2) k::Conv2dBackwardInputNaive(o.p, o.w_dense.view(), o.d_y.view(), o.d_x.view());
    if (phase == 4) k::Conv2dBackwardWeightNaive(o.p, o.d_y.view(), o.x.view(), o.d_w_dense.view());
  }
  bench::SetConvCounters(state, o.p, static_cast<double>(o.p.out_channels * o.p.filter_size()), 1);
}
void BM_Conv2dForwardNaive(benchmark::State& state) { NaiveCase(state, 1); }
void BM_Conv2dBackwardInputNaive(benchmark::State& state) { NaiveCase(state, 2); }
void BM_Conv2dBackwardWeightNaive(benchmark::State& state) { NaiveCase(state, 4); }

BENCHMARK(BM_Conv2dDenseForward)->Apply(bench::ConvDenseArgs);
BENCHMARK(BM_Conv2dDenseBackwardInput)->Apply(bench::ConvDenseArgs);
BENCHMARK(BM_Conv2dDenseBackwardWeight)->Apply(bench::ConvDenseArgs);
BENCHMARK(BM_Conv2dDenseStep)->Apply(bench::ConvDenseArgs);
BENCHMARK(BM_Conv2dForwardNaive)->ArgNames({"layer"})->Arg(0)->UseRealTime();
BENCHMARK(BM_Conv2dBackwardInputNaive)->ArgNames({"layer"})->Arg(0)->UseRealTime();
BENCHMARK(BM_Conv2dBackwardWeightNaive)->ArgNames({"layer"})->Arg(0)->UseRealTime();

}  // namespace
