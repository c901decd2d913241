// Elementwise activations (any shape, any layout).
#ifndef ENGINE_OPS_ACTIVATIONS_H_
#define ENGINE_OPS_ACTIVATIONS_H_

#include "engine/autograd/variable.h"

namespace engine {

// y = max(x, 0).
Variable Relu(const Variable& x);
// y = min(max(x, 0), 6) (MobileNet's); dx += dy where 0 < x < 6.
Variable Relu6(const Variable& x);

}  // namespace engine

#endif  // ENGINE_OPS_ACTIVATIONS_H_
