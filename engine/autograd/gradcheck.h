// Finite-difference gradient checking (ggml's MODE_GRAD idea): the analytic gradient of the scalar
// s = sum(r ⊙ f(inputs)), r a fixed random tensor, is compared with central differences (s(x+eps) - s(x-eps))/2eps,
// the sums taken in double. Inputs are raw float buffers, so the same checker covers Leaf variables and the
// nonzeros of a SparseParameter. Not a test framework: it returns a report; tests assert on it.
#ifndef ENGINE_AUTOGRAD_GRADCHECK_H_
#define ENGINE_AUTOGRAD_GRADCHECK_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/autograd/variable.h"

namespace engine {

// One buffer to perturb, and where its analytic gradient lands after Backward (read once, after the backward).
struct GradCheckInput {
  std::string name;
  float* data = nullptr;
  int64_t size = 0;
  std::function<const float*()> analytic_grad;
};

// A Leaf variable as a gradcheck input.
GradCheckInput LeafInput(const Variable& leaf);

struct GradCheckOptions {
  double eps = 1e-2;   // perturbation; float32 forwards need a large step (rounding error ~ 1e-7 |s| / eps)
  double rtol = 1e-2;  // |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|)
  double atol = 1e-3;
  uint64_t seed = 1;   // for the random output weights r in [-1, 1)
};

struct GradCheckReport {
  bool ok = true;
  int64_t checked = 0;
  double max_abs_error = 0;
  std::string first_failure;  // "<input>[index]: analytic a, numeric n" when !ok
};

// forward() must build a fresh graph from the current contents of the inputs each call. Gradients of the inputs
// must be zero before the call (the analytic pass accumulates once).
GradCheckReport GradCheck(const std::function<Variable()>& forward, const std::vector<GradCheckInput>& inputs,
                          const GradCheckOptions& options = {});

}  // namespace engine

#endif  // ENGINE_AUTOGRAD_GRADCHECK_H_
