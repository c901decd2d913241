// RigL (Evci et al. 2020; RIGL.md 3.2-3.4): every delta_t steps, until t_end, drop the smallest |w| of each layer and
// grow the same number of connections where the dense gradient of this batch is largest. The update replaces the
// optimizer step (t does not advance), so on an update iteration the backward produces the dense gradient, tile by
// tile through dense_grad_rows, and skips the pattern gradient the step would have used.
#include <memory>

#include "rigl/methods/registry.h"

namespace rigl {
namespace {

class Rigl : public TrainingMethod {
 public:
  using TrainingMethod::TrainingMethod;

  void BeforeForward(const IterationPlan& it) override { RequestDenseGradientOnUpdates(it); }
  TopologyChange UpdateTopology(const IterationPlan& it) override {
    return DropAndGrow(GrowMode::kGradient, it.update_step);
  }
};

}  // namespace

std::unique_ptr<TrainingMethod> MakeRigl(const MethodContext& context) { return std::make_unique<Rigl>(context); }

}  // namespace rigl
