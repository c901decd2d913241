// Inverted dropout: in training, each element is kept with probability 1 - p and scaled by 1 / (1 - p); in
// inference it is the identity. The mask is a pure function of (seed, step, element index) through HashUniform,
// so it does not depend on the thread count and can be replayed.
#ifndef ENGINE_OPS_DROPOUT_H_
#define ENGINE_OPS_DROPOUT_H_

#include <cstdint>

#include "engine/autograd/variable.h"

namespace engine {

// 0 <= p < 1. Element i is kept when HashUniform(seed, step, i) >= p. Returns x itself when !training or p == 0.
Variable Dropout(const Variable& x, float p, bool training, uint64_t seed, uint64_t step);

}  // namespace engine

#endif  // ENGINE_OPS_DROPOUT_H_
