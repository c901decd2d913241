// Small shared helpers for ops whose output rows carry a per-row bias (linear layers): add it, and sum its gradient.
// Rows are split across threads; each output element has one writer.
#ifndef ENGINE_OPS_BIAS_H_
#define ENGINE_OPS_BIAS_H_

#include "engine/tensor/views.h"

namespace engine {

// y[i, :] += bias[i].
void AddBiasRows(const float* bias, DenseView y);
// d_bias[i] += sum_j d_y[i, j] (summed in double, then rounded once).
void AccumulateRowSums(ConstDenseView d_y, float* d_bias);

}  // namespace engine

#endif  // ENGINE_OPS_BIAS_H_
