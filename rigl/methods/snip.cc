// SNIP (Lee et al. 2019; RIGL.md 3.7): the network starts with every position stored; on the first batch the
// saliency |g * w| ranks each layer's positions (blocks: the Frobenius norm of the block's g * w) and all but the
// distribution's nnz are pruned. That batch takes no
// optimizer step and does not advance t; training then continues on the fixed pattern.
#include <memory>
#include <vector>

#include "rigl/methods/registry.h"

namespace rigl {
namespace {

class Snip : public TrainingMethod {
 public:
  using TrainingMethod::TrainingMethod;

  IterationPlan Plan() override {
    if (done_) return driver_->Next();
    IterationPlan it;
    it.step_before = step();
    it.mask_update = true;  // the pruning batch: no optimizer step
    it.update_step = step();
    return it;
  }
  TopologyChange UpdateTopology(const IterationPlan&) override {
    std::vector<std::vector<int64_t>> drops(layers().size());
    for (size_t l = 0; l < layers().size(); ++l) {
      const engine::SparseParameter& p = *layers()[l].param;
      if (!p.blocked()) {
        drops[l] = SnipDrops(p.grad.data(), p.values().data(), p.positions(), layers()[l].target_nnz);
        continue;
      }
      // A block's saliency: the Frobenius norm of its entries' g * w.
      std::vector<float> saliency(static_cast<size_t>(p.stored()));
      for (size_t e = 0; e < saliency.size(); ++e) saliency[e] = p.grad[e] * p.values()[e];
      drops[l] = LowestMagnitude(p.PositionNorms(saliency.data()).data(), p.positions(),
                                 p.positions() - layers()[l].target_nnz);
    }
    const TopologyChange change = Prune(drops);
    for (LayerState& s : layers()) InitHistory(s.param->pattern(), &s.history);
    done_ = true;
    return change;
  }
  void Save(CheckpointWriter* w) const override { w->meta()["snip_done"] = done_; }
  void Restore(const CheckpointReader& r, const std::string&) override {
    done_ = r.meta().at("snip_done").get<bool>();
  }

 private:
  bool done_ = false;
};

}  // namespace

std::unique_ptr<TrainingMethod> MakeSnip(const MethodContext& context) { return std::make_unique<Snip>(context); }

}  // namespace rigl
