// Dense GEMM: a checked wrapper over OpenBLAS's cblas_sgemm (row-major) that splits C into blocks itself. Not a GEMM
// of our own: each block is one single-threaded OpenBLAS call.
//
// Why the split is ours: OpenBLAS's kernels sum an element of C in an order that can depend on where the element
// falls in OpenBLAS's own partition of C across threads (seen with its SkylakeX and Zen kernels: 1 and 2 threads
// differ in the last bits), so a product split by OpenBLAS is repeatable only for a fixed thread count. Here the
// blocks depend on the shape alone, every block is computed the same way whichever thread takes it, and the
// reduction over k is never split: results are bitwise identical for any thread count.
#include "engine/kernels/gemm.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>

#include "engine/base/check.h"
#include "engine/base/flop_counter.h"

namespace engine::kernels {
namespace {

// Below ~4 MFLOP per block the call overhead and OpenBLAS's packing show; above 16 blocks per product the packing
// of the shared operand, repeated per block, costs more than the balance gains (measured on Zen 3 and Zen 4,
// 2 threads: 128-256-row blocks match or beat OpenBLAS's own threading on the MLP and conv shapes).
constexpr double kBlockFlops = 4.0 * 1024 * 1024;
constexpr int64_t kMaxBlocks = 16;
constexpr int64_t kMinBlockRows = 64;
constexpr int64_t kMinBlockCols = 256;
constexpr int64_t kLongInner = 1024;
constexpr int64_t kMinBlockColsLongInner = 64;

int64_t RoundUp16(int64_t x) { return (x + 15) / 16 * 16; }

}  // namespace

GemmBlocks PlanGemmBlocks(int64_t m, int64_t n, int64_t k) {
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  const int64_t want = std::clamp<int64_t>(static_cast<int64_t>(flops / kBlockFlops), 1, kMaxBlocks);
  GemmBlocks b{m, n};
  if (want == 1) return b;
  // Rows of C when there are enough of them (each block then shares B's packing pattern); columns otherwise
  // (convolutions: few output channels, many output pixels).
  if (m >= 2 * kMinBlockRows) {
    b.rows = std::min(m, std::max(kMinBlockRows, RoundUp16((m + want - 1) / want)));
    return b;
  }
  if (k < kLongInner) {
    b.cols = std::min(n, std::max(kMinBlockCols, RoundUp16((n + want - 1) / want)));
    return b;
  }
  // A long inner dimension (a convolution's weight gradient: k = images x pixels) makes narrow blocks cheap to
  // pack, and with n of a few hundred the 256-column minimum would leave one large block and a sliver (n = 288:
  // 256 + 32, one thread doing 89%): near-equal blocks of at least 64 columns instead.
  const int64_t count = std::clamp<int64_t>(n / kMinBlockColsLongInner, 1, want);  // near-equal blocks
  b.cols = std::min(n, RoundUp16((n + count - 1) / count));
  return b;
}

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
  const GemmBlocks blocks = PlanGemmBlocks(m, n, k);
  const int64_t row_blocks = (m + blocks.rows - 1) / blocks.rows, col_blocks = (n + blocks.cols - 1) / blocks.cols;
  const int64_t count = row_blocks * col_blocks;
  // An empty inner dimension still scales C by beta; OpenBLAS handles k == 0 but wants lda >= 1.
  const int lda = static_cast<int>(a.ld > 0 ? a.ld : 1), ldb = static_cast<int>(b.ld > 0 ? b.ld : 1);
  const int threads = static_cast<int>(std::min<int64_t>(count, omp_get_max_threads()));
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (int64_t block = 0; block < count; ++block) {
    // One OpenBLAS thread per call, also when this region runs on one thread (OpenBLAS's OpenMP build then reads
    // this task's thread count, which this sets for the current task only).
    omp_set_num_threads(1);
    const int64_t i0 = block / col_blocks * blocks.rows, j0 = block % col_blocks * blocks.cols;
    const int64_t mb = std::min(blocks.rows, m - i0), nb = std::min(blocks.cols, n - j0);
    const float* a0 = transpose_a ? a.data + i0 : a.data + i0 * a.ld;   // rows i0.. of op(A)
    const float* b0 = transpose_b ? b.data + j0 * b.ld : b.data + j0;   // columns j0.. of op(B)
    cblas_sgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans, transpose_b ? CblasTrans : CblasNoTrans,
                static_cast<int>(mb), static_cast<int>(nb), static_cast<int>(k), alpha, a0, lda, b0, ldb, beta,
                c.data + i0 * c.ld + j0, static_cast<int>(c.ld));
  }
  FlopCounter::Add(2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k));
}

}  // namespace engine::kernels
