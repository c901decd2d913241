// SET (Mocanu et al. 2018; RIGL.md 3.5): after the optimizer step of every delta_t-th step, drop the smallest |w|
// and grow as many connections uniformly at random among the inactive positions, from a stream seeded by
// (--seed, step, layer). Needs no dense quantity at all.
#include <memory>

#include "rigl/methods/registry.h"

namespace rigl {
namespace {

class Set : public TrainingMethod {
 public:
  using TrainingMethod::TrainingMethod;

  TopologyChange UpdateTopology(const IterationPlan& it) override {
    return DropAndGrow(GrowMode::kRandom, it.update_step);
  }
};

}  // namespace

std::unique_ptr<TrainingMethod> MakeSet(const MethodContext& context) { return std::make_unique<Set>(context); }

}  // namespace rigl
