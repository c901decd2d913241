// Elementwise sum of two same-shaped variables (residual connections).
#ifndef ENGINE_OPS_ADD_H_
#define ENGINE_OPS_ADD_H_

#include "engine/autograd/variable.h"

namespace engine {

// y = a + b; a and b must have identical shapes (no broadcasting).
Variable Add(const Variable& a, const Variable& b);

}  // namespace engine

#endif  // ENGINE_OPS_ADD_H_
