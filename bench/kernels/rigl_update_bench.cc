// Benchmarks of one layer's topology update (rigl::UpdateLayer) on MLP-4096's largest layer (4096 x 4096) at the
// densities the flops bench runs, drop fraction 0.3 (the schedule's start): RigL (grow by |dense gradient|) and SET
// (random grow). The dense gradient comes from a stored random matrix copied a tile at a time, so what is timed is
// the update's own work (selection, drop, edit, remap), not the GEMM that makes the gradient in training. Each
// iteration starts from the same pattern (the copy is outside the timing).
#include <cstdint>
#include <map>
#include <tuple>
#include <vector>

#include <benchmark/benchmark.h>

#include "engine/autograd/parameter.h"
#include "engine/base/rng.h"
#include "rigl/updater.h"
#include "tests/testutil/testutil.h"

namespace {

struct Layer {
  engine::SparseParameter w;
  std::vector<float> dense_grad;
};

const Layer& CachedLayer(int64_t rows, int64_t cols, int64_t density_pct) {
  static auto* cache = new std::map<std::tuple<int64_t, int64_t, int64_t>, Layer>();
  auto it = cache->find({rows, cols, density_pct});
  if (it == cache->end()) {
    engine::Rng rng(7);
    Layer l{engine::SparseParameter("fc.weight", testutil::RandomCsr(rows, cols, density_pct / 100.0, rng)), {}};
    l.dense_grad.resize(rows * cols);
    for (float& g : l.dense_grad) g = rng.UniformFloat(-1, 1);
    it = cache->emplace(std::make_tuple(rows, cols, density_pct), std::move(l)).first;
  }
  return it->second;
}

void BM_UpdateLayer(benchmark::State& state) {
  const int64_t rows = state.range(0), cols = state.range(1);
  const rigl::GrowMode mode = state.range(3) ? rigl::GrowMode::kRandom : rigl::GrowMode::kGradient;
  const Layer& layer = CachedLayer(rows, cols, state.range(2));
  const std::vector<float>* grad = &layer.dense_grad;
  rigl::UpdateOptions options;
  options.mode = mode;
  options.seed = 3;
  int64_t nnz = 0;
  for (auto _ : state) {
    state.PauseTiming();
    engine::SparseParameter w(layer.w);
    w.dense_grad_rows = [grad, cols](int64_t r0, int64_t r1, engine::DenseView out) {
      for (int64_t i = r0; i < r1; ++i) std::copy(grad->begin() + i * cols, grad->begin() + (i + 1) * cols, out.row(i - r0));
    };
    rigl::LayerHistory history;
    state.ResumeTiming();
    const rigl::LayerUpdateStats stats = rigl::UpdateLayer(w, 0.3f, options, nullptr, &history);
    benchmark::DoNotOptimize(stats.grown);
    nnz = stats.nnz;
  }
  state.counters["nnz"] = static_cast<double>(nnz);
}

void Shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"m", "k", "density_pct", "random"});
  for (int64_t random : {0, 1}) {
    for (int64_t pct : {50, 10, 1}) b->Args({4096, 4096, pct, random});
  }
}

BENCHMARK(BM_UpdateLayer)->Apply(Shapes)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
