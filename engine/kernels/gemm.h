// Dense matrix multiply through OpenBLAS's cblas_sgemm (the OpenMP build, sharing our thread pool).
// C[m, n] = alpha * op(A) * op(B) + beta * C, where op(X) is X or Xᵀ. Used by dense layers, dense convolutions and
// RigL's occasional dense gradient tiles. FLOPs counted: 2 * m * n * k.
// Threads: C is cut into blocks that depend on (m, n, k) only (PlanGemmBlocks), spread over our OpenMP threads, each
// computed by one single-threaded OpenBLAS call; k is never split. Results are bitwise identical for any thread
// count (not across OpenBLAS cores: each core has its own kernels). Called inside a parallel region, it runs on the
// calling thread. Which OpenBLAS core runs, and how the process makes it the CPU's best: blas_core.h.
#ifndef ENGINE_KERNELS_GEMM_H_
#define ENGINE_KERNELS_GEMM_H_

#include <cstdint>

#include "engine/tensor/views.h"

namespace engine::kernels {

// The block shape Gemm uses for an m x n result with inner dimension k: rows x cols (the last blocks may be smaller).
struct GemmBlocks {
  int64_t rows, cols;
};
GemmBlocks PlanGemmBlocks(int64_t m, int64_t n, int64_t k);

void Gemm(bool transpose_a, bool transpose_b, float alpha, ConstDenseView a, ConstDenseView b, float beta,
          DenseView c);

}  // namespace engine::kernels

#endif  // ENGINE_KERNELS_GEMM_H_
