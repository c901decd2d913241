// Gradient clipping by global norm (TF's clip_by_global_norm, PyTorch's clip_grad_norm_ with norm_type 2): every
// gradient of a parameter list, dense and sparse (the stored entries), is scaled by max_norm / norm when their joint
// L2 norm exceeds max_norm.
#ifndef ENGINE_OPTIM_CLIP_H_
#define ENGINE_OPTIM_CLIP_H_

#include "engine/autograd/parameter.h"

namespace engine {

struct ClipResult {
  double norm = 0;       // the global norm before clipping
  bool clipped = false;  // the gradients were scaled
};

// The norm is summed in double, parameter by parameter in the list's order and each buffer in index order, so it is
// the same for any thread count. Throws unless max_norm > 0.
ClipResult ClipGradientsByGlobalNorm(const ParameterList& params, double max_norm);

}  // namespace engine

#endif  // ENGINE_OPTIM_CLIP_H_
