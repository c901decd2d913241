// Transposed SpMM: C[k, n] = Aᵀ * B[m, n], A [m, k] in CSR. The input gradient of a sparse linear layer
// (dX = Wᵀ dY). It walks A's transposed index (a.t_col_offsets / t_positions / t_rows must be set: build it with
// CsrMatrix::view(/*with_transpose=*/true)), so rows of C are independent: no atomics, one writer per element,
// bitwise identical for any thread count. C must not alias B. FLOPs counted: 2 * nnz * n.
#ifndef ENGINE_KERNELS_SPMM_TRANSPOSED_H_
#define ENGINE_KERNELS_SPMM_TRANSPOSED_H_

#include "engine/sparse/csr_view.h"
#include "engine/tensor/views.h"

namespace engine::kernels {

// C = Aᵀ * B, overwritten.
void SpmmCsrTransposed(const CsrView& a, ConstDenseView b, DenseView c);
// C += Aᵀ * B.
void SpmmCsrTransposedAccumulate(const CsrView& a, ConstDenseView b, DenseView c);
// Reference twin: scatters row by row without the transposed index (single-threaded).
void SpmmCsrTransposedNaive(const CsrView& a, ConstDenseView b, DenseView c);

}  // namespace engine::kernels

#endif  // ENGINE_KERNELS_SPMM_TRANSPOSED_H_
