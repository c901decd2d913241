// Dense matrix multiply through OpenBLAS's cblas_sgemm (the OpenMP build, sharing our thread pool).
// C[m, n] = alpha * op(A) * op(B) + beta * C, where op(X) is X or Xᵀ. Used by dense layers and by RigL's
// occasional dense gradient tiles. FLOPs counted: 2 * m * n * k.
#ifndef ENGINE_KERNELS_GEMM_H_
#define ENGINE_KERNELS_GEMM_H_

#include "engine/tensor/views.h"

namespace engine::kernels {

void Gemm(bool transpose_a, bool transpose_b, float alpha, ConstDenseView a, ConstDenseView b, float beta,
          DenseView c);
// The kernel family OpenBLAS chose at load time (e.g. "Cooperlake", "Haswell").
const char* OpenBlasCoreName();

}  // namespace engine::kernels

#endif  // ENGINE_KERNELS_GEMM_H_
