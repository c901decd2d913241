// Batch normalisation over channel-major activations: x [C, N, H, W] (conv) or [C, N] (fully connected). Channel
// c's values are the contiguous block x[c, ...] of M = N·H·W elements. Training mode normalises with the batch
// statistics (biased variance) and updates the running statistics; inference mode uses the running statistics.
// Momentum follows PyTorch: running = (1 - momentum)·running + momentum·batch, the running variance taking the
// unbiased batch variance (M / (M - 1)). TF's decay d corresponds to momentum = 1 - d.
#ifndef ENGINE_OPS_BATCH_NORM_H_
#define ENGINE_OPS_BATCH_NORM_H_

#include "engine/autograd/parameter.h"
#include "engine/autograd/variable.h"
#include "engine/tensor/tensor.h"

namespace engine {

// y[c, ...] = gamma[c] · (x[c, ...] - mean[c]) / sqrt(var[c] + eps) + beta[c].
// gamma, beta: [C] parameters; running_mean, running_var: [C] buffers (updated in training mode only).
Variable BatchNorm(const Variable& x, DenseParameter& gamma, DenseParameter& beta, Tensor& running_mean,
                   Tensor& running_var, float momentum, float eps, bool training);

}  // namespace engine

#endif  // ENGINE_OPS_BATCH_NORM_H_
