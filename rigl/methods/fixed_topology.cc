// Dense, Static and Small-Dense: the topology never changes during training. They differ only in how the plan
// stores their weights (rigl/plan: dense, a fixed random mask, a narrower dense model), so the defaults of
// TrainingMethod are the whole method: every iteration is an optimizer step, no update, pattern gradients only.
#include <memory>

#include "rigl/methods/registry.h"

namespace rigl {
namespace {

class FixedTopology : public TrainingMethod {
 public:
  using TrainingMethod::TrainingMethod;
};

}  // namespace

std::unique_ptr<TrainingMethod> MakeFixedTopology(const MethodContext& context) {
  return std::make_unique<FixedTopology>(context);
}

}  // namespace rigl
