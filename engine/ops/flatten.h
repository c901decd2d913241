// Flatten conv activations [C, N, H, W] into feature-major vectors [C·H·W, N], with feature index
// c·H·W + h·W + w (PyTorch's order for an NCHW tensor flattened per sample), so exported weights line up.
#ifndef ENGINE_OPS_FLATTEN_H_
#define ENGINE_OPS_FLATTEN_H_

#include "engine/autograd/variable.h"

namespace engine {

// x [C, N, H, W] -> [C·H·W, N]. A rank-2 input [F, N] is returned unchanged.
Variable Flatten(const Variable& x);

}  // namespace engine

#endif  // ENGINE_OPS_FLATTEN_H_
