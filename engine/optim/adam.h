// Adam (Kingma & Ba) with bias correction and optional L2 weight decay folded into the gradient (g += wd·w, the
// same convention as Sgd; this is not AdamW):
//   m = β1·m + (1-β1)·g;  v = β2·v + (1-β2)·g²;  w -= lr · (m / (1-β1^t)) / (sqrt(v / (1-β2^t)) + eps)
// Two slots per parameter ("<param>.adam_m", "<param>.adam_v"); sparse parameters keep them at nnz entries and
// update only their stored values.
#ifndef ENGINE_OPTIM_ADAM_H_
#define ENGINE_OPTIM_ADAM_H_

#include <cstdint>
#include <vector>

#include "engine/optim/optimizer.h"
#include "engine/tensor/aligned.h"

namespace engine {

struct AdamOptions {
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0;
  bool exclude_1d_from_weight_decay = false;  // no decay of 1-D parameters (biases, norm scales), as Sgd's option
};

class Adam : public Optimizer {
 public:
  Adam(ParameterList params, AdamOptions options);

  void Step(float lr) override;
  // Two slots per sparse parameter: first moment, then second moment.
  std::vector<float*> SparseSlots(const SparseParameter& p) override;
  // Every moment buffer, plus "adam.step" (one float holding the step count t, exact up to 2^24).
  void CollectState(std::vector<NamedBuffer>* out) override;
  int64_t step_count() const { return static_cast<int64_t>(step_count_); }
  const AdamOptions& options() const { return options_; }

 private:
  AdamOptions options_;
  float step_count_ = 0;  // a float so that a checkpoint can save it as one more named buffer
  std::vector<AlignedVector<float>> dense_m_, dense_v_, sparse_m_, sparse_v_;
};

}  // namespace engine

#endif  // ENGINE_OPTIM_ADAM_H_
