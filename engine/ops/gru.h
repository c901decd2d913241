// The recurrent half of a GRU layer over a whole sequence, with back-propagation through time. PyTorch's nn.GRU
// equations and gate order (r, z, n), batch contiguous, h_0 = 0:
//   gi_t = W_i x_t + b_i                  (all steps at once, outside: one [3H, T*B] product of the input projection)
//   gh_t = W_h h_{t-1} + b_h              (here, one product per step: dense GEMM or the engine's CSR SpMM)
//   r = sigmoid(gi_r + gh_r),  z = sigmoid(gi_z + gh_z),  n = tanh(gi_n + r * gh_n),  h_t = (1 - z) * n + z * h_{t-1}
// The backward walks the steps in reverse, each step's dh_{t-1} += W_hᵀ dgh_t by the transposed SpMM (or GEMM), and
// W_h's gradient is taken once over all steps: the SDDMM of [dgh_1 .. dgh_T] with [h_0 .. h_{T-1}] ([3H, T*B] by
// [H, T*B]) on W_h's pattern, or their GEMM for a dense W_h. A sparse W_h follows the SparseWeightOp contract
// (sparse_weight_op.h): topology-version guard, skip_pattern_grad, and with want_dense_grad the dense dL/dW_h offered
// tile by tile through dense_grad_rows (the same sum over all steps). Deterministic for any thread count: every
// element-wise value has one writer and the products are the engine's deterministic kernels. The sigmoid and tanh
// are the engine's own (a fixed sequence of float operations, the same bits on every CPU).
#ifndef ENGINE_OPS_GRU_H_
#define ENGINE_OPS_GRU_H_

#include <cstdint>

#include "engine/autograd/parameter.h"
#include "engine/autograd/variable.h"

namespace engine {

// W_h [3H, H]: exactly one of the two is set. A sparse one must be CSR.
struct GruRecurrentWeight {
  DenseParameter* dense = nullptr;
  SparseParameter* sparse = nullptr;
};

// gi [3H, steps * batch] (column t * batch + b: step t of sequence b); b_h (optional) [3H]. Returns the hidden states
// h [H, steps * batch], column t * batch + b = h_{t+1} of sequence b.
Variable GruRecurrence(const Variable& gi, int64_t steps, const GruRecurrentWeight& w_h, DenseParameter* b_h);

// The activations GruRecurrence uses, exposed for tests: |error| < 2e-7 (sigmoid) and < 3e-7 (tanh) over all floats,
// saturating to exactly 0 / 1 and -1 / 1.
float GruSigmoid(float x);
float GruTanh(float x);

}  // namespace engine

#endif  // ENGINE_OPS_GRU_H_
