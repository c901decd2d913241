// SDDMM on a CSR pattern: for each stored position p = (i, j) of the pattern, out[p] = sum_t G[i, t] * X[j, t].
// The weight gradient of a sparse linear layer restricted to its pattern (dW = (dY Xᵀ) at nnz), never a dense
// m x k result. Legend: G [m, n] dense, X [k, n] dense, pattern m x k, out has nnz entries (aligned with values).
// Only the pattern's indices are read (its values are ignored). Rows split across threads; one writer per
// output. FLOPs counted: 2 * nnz * n.
#ifndef ENGINE_KERNELS_SDDMM_H_
#define ENGINE_KERNELS_SDDMM_H_

#include "engine/sparse/csr_view.h"
#include "engine/tensor/views.h"

namespace engine::kernels {

// out[p] = <G[i, :], X[j, :]>, overwritten.
void SddmmCsr(const CsrView& pattern, ConstDenseView g, ConstDenseView x, float* out);
// out[p] += <G[i, :], X[j, :]>.
void SddmmCsrAccumulate(const CsrView& pattern, ConstDenseView g, ConstDenseView x, float* out);
// Reference twin (single-threaded, plain loops).
void SddmmCsrNaive(const CsrView& pattern, ConstDenseView g, ConstDenseView x, float* out);

}  // namespace engine::kernels

#endif  // ENGINE_KERNELS_SDDMM_H_
