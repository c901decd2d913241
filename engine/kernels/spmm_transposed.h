// Transposed SpMM: C[k, n] = Aᵀ * B[m, n], A [m, k] in CSR. The input gradient of a sparse linear layer
// (dX = Wᵀ dY). With A's transposed index in the view (CsrMatrix::view(/*with_transpose=*/true)), Aᵀ's values are
// gathered into transposed order (O(nnz)) and the forward SpMM kernel computes Aᵀ B row by row: the fast path.
// Without it, work is split by ranges of C's rows (= columns of A) times column tiles of C: each item walks A's
// rows in order and adds a[i, j] * B[i, :] to its own rows j. Either way every element of C has one writer and
// receives its terms in ascending i: no atomics, bitwise identical for any thread count. C must not alias B.
// FLOPs counted: 2 * nnz * n.
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
