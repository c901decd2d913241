// The one helper header of the kernel benchmarks (bench/kernels/<family>_bench.cc, one per engine/kernels family):
// the layer shapes they run, caches of random operands (large patterns take a while to draw, so each is drawn once
// per process), the FLOP/s counters, the dense OpenBLAS baseline every family is compared with in its own binary
// (BM_GemmDense*, whose m/k/n match the sparse runs' so bench_main's summary pairs them), the convolution layers,
// and the machine's FMA peak, from which bench/kernels/report.py draws the physical limits.
#ifndef BENCH_KERNELS_KERNEL_BENCH_H_
#define BENCH_KERNELS_KERNEL_BENCH_H_

#include <omp.h>

#include <cstdint>
#include <map>
#include <tuple>
#include <utility>

#include <benchmark/benchmark.h>

#include "engine/base/cpu.h"
#include "engine/kernels/conv2d.h"
#include "engine/kernels/gemm.h"
#include "engine/kernels/isa_target.h"
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

// The three products of a layer W [m, k] at batch n: the forward Y = W X, the input gradient dX = Wᵀ dY and the
// weight gradient dW = dY Xᵀ, each 2 m k n FLOPs.
enum class Product { kForward, kInputGrad, kWeightGrad };

// Dense operands of a layer from a benchmark's arguments m, k, n (state.range(0..2)): random W, X and dY (drawn in
// that order from one seed, so every dense benchmark of a shape multiplies the same numbers), and the output of
// `product` only (Y, dX or dW; the other two stay empty).
struct GemmOperands {
  int64_t m = 0, k = 0, n = 0;
  engine::Tensor w, x, d_y;  // [m, k], [k, n], [m, n]
  engine::Tensor y, d_x, d_w;  // [m, n], [k, n], [m, k]
  double flops() const { return 2.0 * m * k * n; }
};
inline GemmOperands MakeGemmOperands(const benchmark::State& state, Product product) {
  GemmOperands o;
  o.m = state.range(0), o.k = state.range(1), o.n = state.range(2);
  testutil::Rng rng(4);
  o.w = testutil::RandomDense({o.m, o.k}, rng);
  o.x = testutil::RandomDense({o.k, o.n}, rng);
  o.d_y = testutil::RandomDense({o.m, o.n}, rng);
  if (product == Product::kForward) o.y = engine::Tensor({o.m, o.n});
  if (product == Product::kInputGrad) o.d_x = engine::Tensor({o.k, o.n});
  if (product == Product::kWeightGrad) o.d_w = engine::Tensor({o.m, o.k});
  return o;
}

// The dense baselines of a layer (arguments m, k, n, the sparse runs' own) through engine::Gemm (OpenBLAS, our
// deterministic block split): BM_GemmDense (forward), BM_GemmDenseTN (input gradient), BM_GemmDenseNT (weight
// gradient).
inline void GemmDenseCase(benchmark::State& state, Product product) {
  GemmOperands o = MakeGemmOperands(state, product);
  namespace kn = engine::kernels;
  for (auto _ : state) {
    if (product == Product::kForward) kn::Gemm(false, false, 1.0f, o.w.view(), o.x.view(), 0.0f, o.y.view());
    if (product == Product::kInputGrad) kn::Gemm(true, false, 1.0f, o.w.view(), o.d_y.view(), 0.0f, o.d_x.view());
    if (product == Product::kWeightGrad) kn::Gemm(false, true, 1.0f, o.d_y.view(), o.x.view(), 0.0f, o.d_w.view());
  }
  SetCounters(state, o.flops(), o.flops());
}
inline void BM_GemmDense(benchmark::State& state) { GemmDenseCase(state, Product::kForward); }
inline void BM_GemmDenseTN(benchmark::State& state) { GemmDenseCase(state, Product::kInputGrad); }
inline void BM_GemmDenseNT(benchmark::State& state) { GemmDenseCase(state, Product::kWeightGrad); }

// The FMA peak of this machine's vector path, all OpenMP threads at once: 12 independent chains of 8-float AVX2
// FMAs per thread (enough to cover the FMA latency on two pipes), or 4-float SSE multiply-adds on CPUs without AVX2.
// FLOP/s counts 2 per lane per FMA. report.py draws it as the ceiling no kernel can pass.
ENGINE_TARGET_AVX2 inline float FmaChainsAvx2(int64_t iterations, float seed) {
  __m256 acc[12];
  const __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(seed);
  for (int j = 0; j < 12; ++j) acc[j] = _mm256_set1_ps(static_cast<float>(j));
  for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < 12; ++j) acc[j] = _mm256_fmadd_ps(acc[j], a, b);
  }
  for (int j = 1; j < 12; ++j) acc[0] = _mm256_add_ps(acc[0], acc[j]);
  float lanes[8];
  _mm256_storeu_ps(lanes, acc[0]);
  return lanes[0];
}
inline float MulAddChainsSse(int64_t iterations, float seed) {
  __m128 acc[12];
  const __m128 a = _mm_set1_ps(0.999f), b = _mm_set1_ps(seed);
  for (int j = 0; j < 12; ++j) acc[j] = _mm_set1_ps(static_cast<float>(j));
  for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < 12; ++j) acc[j] = _mm_add_ps(_mm_mul_ps(acc[j], a), b);
  }
  for (int j = 1; j < 12; ++j) acc[0] = _mm_add_ps(acc[0], acc[j]);
  float lanes[4];
  _mm_storeu_ps(lanes, acc[0]);
  return lanes[0];
}
inline void BM_FmaPeak(benchmark::State& state) {
  const bool avx2 = engine::CpuHasAvx2();
  constexpr int64_t kIterations = 1 << 16;
  for (auto _ : state) {
    float total = 0;
#pragma omp parallel reduction(+ : total)
    total += avx2 ? FmaChainsAvx2(kIterations, 0.5f) : MulAddChainsSse(kIterations, 0.5f);
    benchmark::DoNotOptimize(total);
  }
  const double flops_per_thread = 2.0 * 12 * kIterations * (avx2 ? 8 : 4);
  state.counters["FLOP/s"] = benchmark::Counter(
      flops_per_thread * omp_get_max_threads() * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// Convolution layers, batch 128: LeNet-5 conv2 (0), the three stride-1 3x3 convs of WRN-22-2 (CIFAR, widths
// 32/64/128: 1-3) and its stride-2 transition conv into group 2 (4).
inline engine::kernels::Conv2dParams ConvLayer(int64_t id) {
  engine::kernels::Conv2dParams p;
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
    case 5:  // LeNet-5 conv1: 1->6 5x5 pad 2 on 28x28 (the direct few-channel path, as layer 0)
      p.in_channels = 1, p.out_channels = 6, p.in_h = p.in_w = 28, p.kernel_h = p.kernel_w = 5, p.pad = 2;
      break;
    case 6:  // WRN-22-2's stem on Fashion-MNIST: 1->16 3x3 pad 1 on 28x28 (direct path)
      p.in_channels = 1, p.out_channels = 16, p.in_h = p.in_w = 28;
      break;
  }
  return p;
}
inline constexpr int64_t kConvLayers = 7;

// Operands of one convolution layer, drawn once: input, output, their gradients, a dense weight and its gradient.
struct ConvOperands {
  engine::kernels::Conv2dParams p;
  engine::Tensor x, y, d_y, d_x, w_dense, d_w_dense;
};
inline ConvOperands& ConvOperandsFor(int64_t layer) {
  static auto* cache = new std::map<int64_t, ConvOperands>();
  auto it = cache->find(layer);
  if (it != cache->end()) return it->second;
  ConvOperands o;
  o.p = ConvLayer(layer);
  const engine::kernels::Conv2dParams& p = o.p;
  testutil::Rng rng(5);
  o.x = testutil::RandomDense({p.in_channels, p.batch * p.in_h * p.in_w}, rng);
  o.d_y = testutil::RandomDense({p.out_channels, p.batch * p.out_h() * p.out_w()}, rng);
  o.y = engine::Tensor({p.out_channels, p.batch * p.out_h() * p.out_w()});
  o.d_x = engine::Tensor({p.in_channels, p.batch * p.in_h * p.in_w});
  o.w_dense = testutil::RandomDense({p.out_channels, p.filter_size()}, rng);
  o.d_w_dense = engine::Tensor({p.out_channels, p.filter_size()});
  return cache->emplace(layer, std::move(o)).first->second;
}

// Convolution counters: FLOP/s useful (2 nnz N P Q per pass), dense_FLOP/s (2 K C R S N P Q per pass).
inline void SetConvCounters(benchmark::State& state, const engine::kernels::Conv2dParams& p, double nnz,
                            double passes) {
  const double pixels = static_cast<double>(p.batch * p.out_h() * p.out_w()), it = state.iterations();
  state.counters["FLOP/s"] = benchmark::Counter(passes * 2.0 * nnz * pixels * it, benchmark::Counter::kIsRate);
  state.counters["dense_FLOP/s"] = benchmark::Counter(
      passes * 2.0 * p.out_channels * p.filter_size() * pixels * it, benchmark::Counter::kIsRate);
}

// The dense convolution (im2col + OpenBLAS sgemm, engine/kernels/conv2d): its own family's benchmark and the
// baseline of the sparse one. Args {layer}.
inline void ConvDenseCase(benchmark::State& state, int phases) {  // bit 0 forward, 1 input grad, 2 weight grad
  ConvOperands& o = ConvOperandsFor(state.range(0));
  namespace k = engine::kernels;
  for (auto _ : state) {
    if (phases & 1) k::Conv2dForward(o.p, o.w_dense.view(), o.x.view(), o.y.view());
    if (phases & 2) k::Conv2dBackwardInput(o.p, o.w_dense.view(), o.d_y.view(), o.d_x.view());
    if (phases & 4) k::Conv2dBackwardWeight(o.p, o.d_y.view(), o.x.view(), o.d_w_dense.view());
  }
  SetConvCounters(state, o.p, static_cast<double>(o.p.out_channels * o.p.filter_size()),
                  (phases & 1) + ((phases >> 1) & 1) + ((phases >> 2) & 1));
}
inline void BM_Conv2dDenseForward(benchmark::State& state) { ConvDenseCase(state, 1); }
inline void BM_Conv2dDenseBackwardInput(benchmark::State& state) { ConvDenseCase(state, 2); }
inline void BM_Conv2dDenseBackwardWeight(benchmark::State& state) { ConvDenseCase(state, 4); }
inline void BM_Conv2dDenseStep(benchmark::State& state) { ConvDenseCase(state, 7); }
inline void ConvDenseArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"layer"})->DenseRange(0, kConvLayers - 1)->UseRealTime();
}

}  // namespace bench

#endif  // BENCH_KERNELS_KERNEL_BENCH_H_
