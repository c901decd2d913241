// Test-only helpers: random dense and sparse operands, dense double-precision oracles that share no index code
// with the kernels (they work on densified operands), and a tolerance comparison that reports the first bad entry.
#ifndef TESTS_TESTUTIL_TESTUTIL_H_
#define TESTS_TESTUTIL_TESTUTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/base/rng.h"
#include "engine/sparse/bsr.h"
#include "engine/sparse/csr.h"
#include "engine/tensor/tensor.h"

namespace testutil {

using engine::Rng;

// Uniform values in [-1, 1).
engine::Tensor RandomDense(std::vector<int64_t> shape, Rng& rng);
// A CSR matrix with exactly round(density * m * k) stored entries at uniform positions, values in [-1, 1).
engine::CsrMatrix RandomCsr(int64_t m, int64_t k, double density, Rng& rng);
// An m x k BSR matrix in br x bc blocks with round(density * block grid) stored blocks at uniform cells, in-bounds
// values in [-1, 1), padding 0.
engine::BsrMatrix RandomBsr(int64_t m, int64_t k, int64_t br, int64_t bc, double density, Rng& rng);

// A dense matrix in double precision, row-major.
struct DenseF64 {
  int64_t rows = 0, cols = 0;
  std::vector<double> data;
  double at(int64_t i, int64_t j) const { return data[i * cols + j]; }
};
DenseF64 ToF64(const engine::Tensor& t);  // views t as a matrix [shape[0], rest]
// C = A * B in double; transposes as flagged.
DenseF64 MatmulF64(const DenseF64& a, const DenseF64& b, bool transpose_a = false, bool transpose_b = false);

// Passes when |actual - expected| <= atol + rtol * |expected| everywhere; otherwise names the first bad (i, j).
::testing::AssertionResult AllClose(const engine::Tensor& actual, const DenseF64& expected, double atol,
                                    double rtol = 1e-5);
::testing::AssertionResult AllClose(const std::vector<float>& actual, const std::vector<double>& expected,
                                    double atol, double rtol = 1e-5);
// Bitwise equality of two float buffers, naming the first differing index.
::testing::AssertionResult BitIdentical(const float* a, const float* b, int64_t n);

// Runs this test binary again (posix_spawn of /proc/self/exe, no shell) with --gtest_filter=filter and the
// environment changed by `env` (name, value; an empty value unsets), waits, and returns its exit status (-1 when it
// could not start or died of a signal). Its output goes to this process's stdout, so it appears in the test log.
int RunSelf(const std::string& gtest_filter, const std::vector<std::pair<std::string, std::string>>& env);

// Runs the tests matching gtest_filter again in a child process under each OpenBLAS core this CPU can execute
// (ENGINE_OPENBLAS_CORE=Prescott, Sandybridge, Haswell, Zen, SkylakeX), expecting each child to pass; cores the CPU
// cannot run are named on stdout as skipped. The child should check, with ExpectForcedBlasCore(), that it runs the
// core it was given.
void ExpectPassesUnderEveryBlasCore(const std::string& gtest_filter);
// In a child of ExpectPassesUnderEveryBlasCore: OpenBLAS runs the core ENGINE_OPENBLAS_CORE names (no-op when unset).
void ExpectForcedBlasCore();

}  // namespace testutil

#endif  // TESTS_TESTUTIL_TESTUTIL_H_
