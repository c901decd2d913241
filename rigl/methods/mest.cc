// MEST+EM&S (Yuan et al., "MEST: Accurate and Fast Memory-Economic Sparse Training Framework on the Edge", NeurIPS
// 2021), our reading of it for unstructured CSR layers: topology updates need no dense quantity at all (random
// growth, as SET), the drop ranks by |w| + lambda |dL/dw| with the stored gradient of the step just taken (Elastic
// Mutation: the mutation ratio decays with the drop schedule), and the Soft memory bound grows first: the k cells
// grown at an update train for delta_t steps beside the rest before the next update drops the lowest-scoring back to
// the budget, so a new connection competes on its merit instead of being judged at zero. Between updates a layer
// holds its budget plus the k of the last growth; the last update (no later one on the schedule) grows nothing, so
// the run ends at the budget. The state is the pattern itself (nnz above the budget = pending growth), so resume
// needs nothing more. FLOPs: 3 f_S at the current densities.
#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "engine/base/check.h"
#include "rigl/methods/registry.h"

namespace rigl {
namespace {

class Mest : public TrainingMethod {
 public:
  using TrainingMethod::TrainingMethod;

  TopologyChange UpdateTopology(const IterationPlan& it) override {
    std::vector<LayerState>& ls = layers();
    const int64_t t = it.update_step;
    const float f = drop_schedule().DropFraction(t);
    const bool last = !drop_schedule().IsUpdateStep(t + config().delta_t, t);
    std::vector<LayerEdit> edits(ls.size());
    std::vector<LayerUpdateStats> stats(ls.size());
    for (size_t l = 0; l < ls.size(); ++l) {
      engine::SparseParameter& p = *ls[l].param;
      const engine::PatternView m = p.pattern();
      const std::vector<float> magnitudes = p.PositionMagnitudes();
      stats[l] = BeginLayerUpdate(p, magnitudes, &ls[l].history);
      // Back to the budget: drop the extra the previous growth added, lowest |w| + lambda |g| first.
      const int64_t extra = std::max<int64_t>(0, m.positions - ls[l].target_nnz);
      ENGINE_CHECK(p.grad.size() == static_cast<size_t>(m.positions), p.name, ": mest's drop score needs the step's "
                   "gradient (", m.positions, " entries); found ", p.grad.size());
      const std::vector<float> score =
          MestScores(p.values().data(), p.grad.data(), m.positions, static_cast<float>(config().mest_lambda));
      const std::vector<int64_t> drop = LowestMagnitude(score.data(), m.positions, extra);
      // Then grow the next k at random among the cells not kept (a just-dropped one may come back), unless this is
      // the last update.
      const int64_t eligible = m.rows * m.cols - (m.positions - extra);
      const int64_t k = last ? 0 : std::min(DropCount(ls[l].target_nnz, f), eligible);
      const std::vector<int64_t> grow =
          RandomOutsideKept(m, drop, k, config().seed, (static_cast<uint64_t>(t) << 16) ^ l);
      edits[l] = ResolveRegrown(m, drop, grow, magnitudes, p.name);
      stats[l].requested = k;
    }
    return ApplyLayerEdits(std::move(edits), std::move(stats), f);
  }
};

}  // namespace

std::unique_ptr<TrainingMethod> MakeMest(const MethodContext& context) { return std::make_unique<Mest>(context); }

}  // namespace rigl
