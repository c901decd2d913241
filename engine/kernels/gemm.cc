// Dense GEMM: a thin, checked wrapper over OpenBLAS's cblas_sgemm (row-major). Not a GEMM of our own.
#include "engine/kernels/gemm.h"

#include <cblas.h>

#include "engine/base/check.h"
#include "engine/base/flop_counter.h"

extern "C" char* openblas_get_corename();

namespace engine::kernels {

void Gemm(bool transpose_a, bool transpose_b, float alpha, ConstDenseView a, ConstDenseView b, float beta,
          DenseView c) {
  const int64_t m = transpose_a ? a.cols : a.rows;
  const int64_t k = transpose_a ? a.rows : a.cols;
  const int64_t k_b = transpose_b ? b.cols : b.rows;
  const int64_t n = transpose_b ? b.rows : b.cols;
  ENGINE_CHECK(k == k_b, "gemm: inner dimensions of op(A) (", m, " x ", k, ") and op(B) (", k_b, " x ", n,
               ") differ; expected equal");
  ENGINE_CHECK(c.rows == m && c.cols == n, "gemm: C is ", c.rows, " x ", c.cols, "; expected ", m, " x ", n);
  ENGINE_CHECK(a.ld >= a.cols && b.ld >= b.cols && c.ld >= c.cols, "gemm: leading dimensions (", a.ld, ", ", b.ld,
               ", ", c.ld, ") given; expected ld >= cols for every operand");
  if (m == 0 || n == 0) return;
  // An empty inner dimension still scales C by beta; OpenBLAS handles k == 0 but wants lda >= 1.
  cblas_sgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans, transpose_b ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a.data,
              static_cast<int>(a.ld > 0 ? a.ld : 1), b.data, static_cast<int>(b.ld > 0 ? b.ld : 1), beta, c.data,
              static_cast<int>(c.ld));
  FlopCounter::Add(2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k));
}

const char* OpenBlasCoreName() { return openblas_get_corename(); }

}  // namespace engine::kernels
