// SpMM with a CSR left operand: C[m, n] = A[m, k] * B[k, n].
// Legend: m rows of A, k cols of A (= rows of B), n cols of B and C (the contiguous batch axis).
// A is CSR (row_offsets m+1, col_indices nnz, values nnz); B [k, n] and C [m, n] dense row-major (ld >= n).
// Threading: rows of C are split across OpenMP threads; each element of C has exactly one writer, so results are
// bitwise identical for any thread count. No allocation, no exceptions. C must not alias B.
// FLOPs counted: 2 * nnz * n (+ m * n for the bias, + m * n for ReLU).
#ifndef ENGINE_KERNELS_SPMM_H_
#define ENGINE_KERNELS_SPMM_H_

#include "engine/sparse/csr_view.h"
#include "engine/tensor/views.h"

namespace engine::kernels {

// C = A * B (+ bias[i] on row i when bias != nullptr) (then max(., 0) when relu). C is overwritten.
void SpmmCsr(const CsrView& a, ConstDenseView b, DenseView c, const float* bias = nullptr, bool relu = false);
// C += A * B.
void SpmmCsrAccumulate(const CsrView& a, ConstDenseView b, DenseView c);

// Reference twins: the plain triple loop, single-threaded, same contract.
void SpmmCsrNaive(const CsrView& a, ConstDenseView b, DenseView c, const float* bias = nullptr, bool relu = false);

}  // namespace engine::kernels

#endif  // ENGINE_KERNELS_SPMM_H_
