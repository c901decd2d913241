// RigL with a global ranking (issue 16; the global variant of Evci et al. 2020's per-layer rule, ranked as global
// magnitude pruning and Chase rank): every delta_t steps, until t_end, drop the k = f(t) x (total nnz) smallest |w|
// over all layers at once and grow k connections where the dense gradient of this batch is largest over all layers.
// A layer's nnz moves (it may lose more than it gains, or the reverse), the total does not, and no layer keeps fewer
// than --global_floor x its distribution's nnz, so none dies. Like RigL, the update replaces the optimizer step and
// reads the dense gradient tile by tile. The FLOPs follow the current per-layer densities (MethodInfo::densities_move).
// Deviation, said in the README: magnitudes and gradients are compared across layers as they are, unnormalised, so
// layers with smaller weights (larger fan-in) lose connections to the others; the floor bounds how far.
#include <cmath>
#include <memory>
#include <utility>
#include <vector>

#include "rigl/methods/registry.h"

namespace rigl {
namespace {

class RiglGlobal : public TrainingMethod {
 public:
  using TrainingMethod::TrainingMethod;

  void BeforeForward(const IterationPlan& it) override { RequestDenseGradientOnUpdates(it); }

  TopologyChange UpdateTopology(const IterationPlan& it) override {
    std::vector<LayerState>& ls = layers();
    const float f = drop_schedule().DropFraction(it.update_step);
    std::vector<std::vector<float>> magnitudes(ls.size());
    std::vector<GlobalLayerInput> in(ls.size());
    std::vector<LayerUpdateStats> stats(ls.size());
    int64_t total = 0;
    for (size_t l = 0; l < ls.size(); ++l) {
      engine::SparseParameter& p = *ls[l].param;
      magnitudes[l] = p.PositionMagnitudes();
      stats[l] = BeginLayerUpdate(p, magnitudes[l], &ls[l].history);
      in[l].pattern = p.pattern();
      in[l].magnitudes = magnitudes[l].data();
      in[l].floor = static_cast<int64_t>(std::ceil(config().global_floor * static_cast<double>(ls[l].target_nnz)));
      in[l].scores = p.dense_grad_rows;
      total += p.positions();
    }
    const std::vector<GlobalChoice> choice = SelectAcrossLayers(in, DropCount(total, f), config().grow_tile_rows);
    std::vector<LayerEdit> edits(ls.size());
    for (size_t l = 0; l < ls.size(); ++l) {
      edits[l] = ResolveRegrown(in[l].pattern, choice[l].drop, choice[l].grow_flat, magnitudes[l], ls[l].param->name);
      stats[l].requested = static_cast<int64_t>(choice[l].drop.size());
    }
    return ApplyLayerEdits(std::move(edits), std::move(stats), f);  // the pattern views in `in` go stale here
  }
};

}  // namespace

std::unique_ptr<TrainingMethod> MakeRiglGlobal(const MethodContext& context) {
  return std::make_unique<RiglGlobal>(context);
}

}  // namespace rigl
