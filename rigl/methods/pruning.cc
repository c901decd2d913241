// Gradual magnitude pruning (Zhu & Gupta 2017; RIGL.md 3.7): the network starts dense-stored; after the optimizer
// step of every prune_frequency-th step between prune_start and prune_end (and on the last one, so the final
// sparsity is reached even when the span is not a multiple of the frequency), each layer keeps its
// MaskNnz(N, s_t) largest |w| under the cubic schedule s_t (a blocked layer: the MaskNnz(blocks, s_t) blocks of
// largest Frobenius norm), and storage shrinks to match.
#include <algorithm>
#include <memory>
#include <vector>

#include "models/layer_spec.h"
#include "rigl/methods/registry.h"

namespace rigl {
namespace {

class Pruning : public TrainingMethod {
 public:
  using TrainingMethod::TrainingMethod;

  void Start(int64_t total_iterations) override {
    TrainingMethod::Start(total_iterations);
    const double total = static_cast<double>(total_iterations);
    schedule_.initial_sparsity = 0.0;
    schedule_.begin_step = static_cast<int64_t>(config().prune_start * total);
    schedule_.end_step = std::max(schedule_.begin_step + 1, static_cast<int64_t>(config().prune_end * total));
    schedule_.frequency = config().prune_frequency;
  }

  IterationPlan Plan() override {
    IterationPlan it = driver_->Next();
    const int64_t t = it.step_before + 1;  // the post-increment step, as SET's and SNFS's updates
    it.mask_update = IsPruningStep(schedule_, t) || t == schedule_.end_step;
    it.update_step = it.mask_update ? t : -1;
    return it;
  }
  TopologyChange UpdateTopology(const IterationPlan& it) override {
    std::vector<std::vector<int64_t>> drops(layers().size());
    bool any = false;
    for (size_t l = 0; l < layers().size(); ++l) {
      const engine::SparseParameter& w = *layers()[l].param;
      const engine::PatternView grid = w.pattern();
      PruningScheduleConfig schedule = schedule_;
      schedule.final_sparsity = layers()[l].target_sparsity;
      const int64_t keep = std::max(layers()[l].target_nnz,
                                    models::MaskNnz(grid.rows * grid.cols, PruningSparsity(schedule, it.update_step)));
      if (keep >= grid.positions) continue;
      drops[l] = LowestMagnitude(w.PositionMagnitudes().data(), grid.positions, grid.positions - keep);
      any = true;
    }
    return any ? Prune(drops) : TopologyChange{};
  }

 private:
  PruningScheduleConfig schedule_;
};

}  // namespace

std::unique_ptr<TrainingMethod> MakePruning(const MethodContext& context) {
  return std::make_unique<Pruning>(context);
}

}  // namespace rigl
