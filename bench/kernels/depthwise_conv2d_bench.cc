// Benchmarks of the depthwise convolution (engine/kernels/depthwise_conv2d) on MobileNet's depthwise layers
// (ImageNet shape, batch 8): forward, input gradient and weight gradient, beside
//   - the same work done as a dense grouped convolution: per channel, im2col + OpenBLAS sgemm (Conv2dForward /
//     BackwardInput / BackwardWeight on that channel's rows, what a framework without a depthwise kernel runs), and
//   - the machine's copy bandwidth on the same number of bytes (BM_CopyBandwidth: both threads, memcpy of the
//     layer's input into another buffer), the physical limit of a memory-bound kernel.
// Counters: FLOP/s (2 C R S N P Q per pass) and bytes/s (each pass's compulsory traffic: forward reads X and writes
// Y; input gradient reads dY and reads and writes dX; weight gradient reads dY and X).
// Args {C, side, stride}: a C-channel side x side input, 3x3 filter, pad 1.
#include <omp.h>

#include <array>
#include <cstring>
#include <map>
#include <tuple>

#include <benchmark/benchmark.h>

#include "bench/kernels/kernel_bench.h"
#include "engine/kernels/conv2d.h"
#include "engine/kernels/depthwise_conv2d.h"

namespace {

constexpr int64_t kDwBatch = 8;

struct DwOperands {
  engine::kernels::Conv2dParams p;
  engine::Tensor x, y, d_y, d_x, w, d_w;
};

DwOperands& DwOperandsFor(int64_t channels, int64_t side, int64_t stride) {
  static auto* cache = new std::map<std::tuple<int64_t, int64_t, int64_t>, DwOperands>();
  auto it = cache->find({channels, side, stride});
  if (it != cache->end()) return it->second;
  DwOperands o;
  engine::kernels::Conv2dParams& p = o.p;
  p.batch = kDwBatch, p.in_channels = p.out_channels = channels, p.in_h = p.in_w = side;
  p.kernel_h = p.kernel_w = 3, p.stride = stride, p.pad = 1;
  testutil::Rng rng(3);
  o.x = testutil::RandomDense({channels, p.batch * side * side}, rng);
  o.d_y = testutil::RandomDense({channels, p.batch * p.out_h() * p.out_w()}, rng);
  o.y = engine::Tensor({channels, p.batch * p.out_h() * p.out_w()});
  o.d_x = engine::Tensor({channels, p.batch * side * side});
  o.w = testutil::RandomDense({channels, 9}, rng);
  o.d_w = engine::Tensor({channels, 9});
  return cache->emplace(std::make_tuple(channels, side, stride), std::move(o)).first->second;
}

// Bytes each phase must move: bit 0 forward, 1 input gradient, 2 weight gradient.
double PhaseBytes(const engine::kernels::Conv2dParams& p, int phase) {
  const double in = 4.0 * p.in_channels * p.batch * p.in_h * p.in_w;
  const double out = 4.0 * p.in_channels * p.batch * p.out_h() * p.out_w();
  return phase == 1 ? in + out : phase == 2 ? out + 2 * in : out + in;
}

void SetDwCounters(benchmark::State& state, const engine::kernels::Conv2dParams& p, int phase) {
  const double it = static_cast<double>(state.iterations());
  const double flops = 2.0 * p.in_channels * 9 * p.batch * p.out_h() * p.out_w();
  state.counters["FLOP/s"] = benchmark::Counter(flops * it, benchmark::Counter::kIsRate);
  state.counters["bytes/s"] = benchmark::Counter(PhaseBytes(p, phase) * it, benchmark::Counter::kIsRate);
}

// Our kernel. phase: 1 forward, 2 input gradient, 4 weight gradient.
void DepthwiseCase(benchmark::State& state, int phase) {
  DwOperands& o = DwOperandsFor(state.range(0), state.range(1), state.range(2));
  namespace k = engine::kernels;
  for (auto _ : state) {
    if (phase == 1) k::DepthwiseConv2dForward(o.p, o.w.view(), o.x.view(), o.y.view());
    if (phase == 2) k::DepthwiseConv2dBackwardInput(o.p, o.w.view(), o.d_y.view(), o.d_x.view());
    if (phase == 4) k::DepthwiseConv2dBackwardWeight(o.p, o.d_y.view(), o.x.view(), o.d_w.view());
    benchmark::ClobberMemory();
  }
  SetDwCounters(state, o.p, phase);
}
void BM_DepthwiseForward(benchmark::State& state) { DepthwiseCase(state, 1); }
void BM_DepthwiseBackwardInput(benchmark::State& state) { DepthwiseCase(state, 2); }
void BM_DepthwiseBackwardWeight(benchmark::State& state) { DepthwiseCase(state, 4); }

// The grouped-convolution baseline: channel c alone as a 1 -> 1 convolution through im2col + sgemm.
void GroupedCase(benchmark::State& state, int phase) {
  DwOperands& o = DwOperandsFor(state.range(0), state.range(1), state.range(2));
  namespace k = engine::kernels;
  k::Conv2dParams one = o.p;
  one.in_channels = one.out_channels = 1;
  auto row = [](engine::Tensor& t, int64_t c) {
    return engine::DenseView{t.data() + c * t.dim(1), 1, t.dim(1), t.dim(1)};
  };
  auto crow = [](const engine::Tensor& t, int64_t c) {
    return engine::ConstDenseView{t.data() + c * t.dim(1), 1, t.dim(1), t.dim(1)};
  };
  for (auto _ : state) {
    for (int64_t c = 0; c < o.p.in_channels; ++c) {
      if (phase == 1) k::Conv2dForward(one, crow(o.w, c), crow(o.x, c), row(o.y, c));
      if (phase == 2) k::Conv2dBackwardInput(one, crow(o.w, c), crow(o.d_y, c), row(o.d_x, c));
      if (phase == 4) k::Conv2dBackwardWeight(one, crow(o.d_y, c), crow(o.x, c), row(o.d_w, c));
    }
    benchmark::ClobberMemory();
  }
  SetDwCounters(state, o.p, phase);
}
void BM_GroupedIm2colForward(benchmark::State& state) { GroupedCase(state, 1); }
void BM_GroupedIm2colBackwardInput(benchmark::State& state) { GroupedCase(state, 2); }
void BM_GroupedIm2colBackwardWeight(benchmark::State& state) { GroupedCase(state, 4); }

// Copy bandwidth: the layer's input (C*N*H*W floats) copied by all threads, each its own contiguous part.
void BM_CopyBandwidth(benchmark::State& state) {
  DwOperands& o = DwOperandsFor(state.range(0), state.range(1), state.range(2));
  const int64_t n = o.x.size();
  engine::Tensor dst({n});
  const float* src = o.x.data();
  float* out = dst.data();
  for (auto _ : state) {
#pragma omp parallel
    {
      const int64_t t = omp_get_thread_num(), threads = omp_get_num_threads();
      const int64_t lo = n * t / threads, hi = n * (t + 1) / threads;
      std::memcpy(out + lo, src + lo, sizeof(float) * (hi - lo));
    }
    benchmark::ClobberMemory();
  }
  // A copy reads and writes every byte once.
  state.counters["bytes/s"] = benchmark::Counter(8.0 * n * static_cast<double>(state.iterations()),
                                                 benchmark::Counter::kIsRate);
}

// MobileNet v1 / v2 depthwise layers at ImageNet shape: {C, input side, stride}.
void DepthwiseLayers(benchmark::internal::Benchmark* b) {
  b->ArgNames({"C", "side", "stride"});
  for (const auto& l : {std::array<int64_t, 3>{32, 112, 1}, {64, 112, 2}, {128, 56, 1}, {256, 28, 1},
                        {512, 14, 1}, {1024, 7, 1}, {96, 112, 2}, {144, 56, 1}, {192, 28, 2}, {576, 14, 1}}) {
    b->Args({l[0], l[1], l[2]});
  }
  b->UseRealTime();
}

BENCHMARK(BM_DepthwiseForward)->Apply(DepthwiseLayers);
BENCHMARK(BM_DepthwiseBackwardInput)->Apply(DepthwiseLayers);
BENCHMARK(BM_DepthwiseBackwardWeight)->Apply(DepthwiseLayers);
BENCHMARK(BM_GroupedIm2colForward)->Apply(DepthwiseLayers);
BENCHMARK(BM_GroupedIm2colBackwardInput)->Apply(DepthwiseLayers);
BENCHMARK(BM_GroupedIm2colBackwardWeight)->Apply(DepthwiseLayers);
BENCHMARK(BM_CopyBandwidth)->Apply(DepthwiseLayers);

}  // namespace
