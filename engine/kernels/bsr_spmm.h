// Blocked-sparse kernels with a BSR left operand: SpMM, transposed SpMM and SDDMM (SDDMM is SpMM's weight
// gradient, so they ship together). Legend: A is m x k in BSR with block_rows x block_cols blocks (br x bc);
// B, C, G, X dense row-major (ld >= cols); n is the contiguous batch axis.
// Padding (see bsr.h) is never read or written by SpmmBsr* (the last block row / column is clipped).
// Threading: one OpenMP loop over block rows of the output; each output element has exactly one writer and a
// fixed summation order, so results are bitwise identical for any thread count. No allocation, no exceptions.
// Outputs must not alias inputs. ISA: engine::ActiveIsa() picks an AVX-512 or an AVX2 (+FMA) register-tile path
// for block_rows in {1, 2, 4, 8} (SpmmBsr: any block_cols; SpmmBsrTransposed: block_cols in {1, 2, 4}) and for
// SddmmBsr shapes 1x1, 2x1, 4x1, 8x1, 1x4, 1x8, 2x2, 4x4; every other shape, the clipped last block row (SpmmBsr,
// SddmmBsr) or block column (transposed), and CPUs without AVX2 take the portable path.
// Summation order: fixed by the pattern, the block shape, n and the ISA path, never by the thread count. The three
// paths agree with each other within rounding only, not bit for bit: the vector paths round once per multiply-add
// (FMA) where the portable loops round twice, the transposed tiles spread a block's rows over partial sums and
// SddmmBsr sums each dot product lane-wise then across lanes, each in an order set by the vector width.
// FLOPs counted (useful work): 2 * a.entries * n (+ m * n for a bias, + m * n for ReLU).
#ifndef ENGINE_KERNELS_BSR_SPMM_H_
#define ENGINE_KERNELS_BSR_SPMM_H_

#include "engine/sparse/bsr.h"
#include "engine/tensor/views.h"

namespace engine::kernels {

// C[m, n] = A[m, k] * B[k, n] (+ bias[i] on row i when bias != nullptr) (then max(., 0) when relu); overwritten.
void SpmmBsr(const BsrView& a, ConstDenseView b, DenseView c, const float* bias = nullptr, bool relu = false);
// C[m, n] += A * B.
void SpmmBsrAccumulate(const BsrView& a, ConstDenseView b, DenseView c);

// C[k, n] = Aᵀ * B[m, n], overwritten (the input gradient dX = Wᵀ dY). Needs A's transposed block index
// (BsrMatrix::view(/*with_transpose=*/true)); rows of C are independent, no atomics.
void SpmmBsrTransposed(const BsrView& a, ConstDenseView b, DenseView c);
// C[k, n] += Aᵀ * B.
void SpmmBsrTransposedAccumulate(const BsrView& a, ConstDenseView b, DenseView c);

// For each stored block p at (ib, jb): out block p [r, c] = <G[ib * br + r, :], X[jb * bc + c, :]>, the weight
// gradient dW = dY Xᵀ restricted to the stored blocks. G [m, n], X [k, n]; out has nnz_blocks * br * bc floats
// aligned with A's values (A's values are not read). Overwritten; padding entries of out are set to 0.
void SddmmBsr(const BsrView& pattern, ConstDenseView g, ConstDenseView x, float* out);
// out += the same (padding entries untouched).
void SddmmBsrAccumulate(const BsrView& pattern, ConstDenseView g, ConstDenseView x, float* out);

// Reference twins: plain loops over blocks, single-threaded, same contracts (the transposed one scatters and
// does not need the transposed index).
void SpmmBsrNaive(const BsrView& a, ConstDenseView b, DenseView c, const float* bias = nullptr, bool relu = false);
void SpmmBsrTransposedNaive(const BsrView& a, ConstDenseView b, DenseView c);
void SddmmBsrNaive(const BsrView& pattern, ConstDenseView g, ConstDenseView x, float* out);

}  // namespace engine::kernels

#endif  // ENGINE_KERNELS_BSR_SPMM_H_
