// Shared shape table and helpers for the CSR kernel tests (spmm, spmm_transposed, sddmm): each case says why it
// exists; operands can carry padded rows (ld > cols) so stride handling is tested too. Test-only.
#ifndef TESTS_ENGINE_KERNELS_KERNEL_CASES_H_
#define TESTS_ENGINE_KERNELS_KERNEL_CASES_H_

#include <cmath>
#include <cstdint>
#include <ostream>
#include <vector>

#include <gtest/gtest.h>

#include "engine/sparse/csr.h"
#include "engine/tensor/tensor.h"
#include "tests/testutil/testutil.h"

namespace testutil {

enum class PatternKind {
  kRandom,         // uniform random positions at the given density
  kEmptyRowsCols,  // random, but every row and column divisible by 3 is empty
  kDenseRow,       // random, plus row m/2 fully dense
};

// A sparse operand A [m, k] (or a pattern), a dense width n, and padding of the dense operands' rows.
struct CsrCase {
  int64_t m, k, n;
  double density;
  PatternKind kind;
  int64_t pad;  // ld = n + pad for every dense operand
  const char* why;
};

inline void PrintTo(const CsrCase& c, std::ostream* os) {
  *os << c.m << "x" << c.k << " n=" << c.n << " density=" << c.density << " pad=" << c.pad << " (" << c.why << ")";
}

// The shape table every CSR kernel runs over.
inline std::vector<CsrCase> CsrKernelCases() {
  return {
      {1, 1, 1, 1.0, PatternKind::kRandom, 0, "smallest: 1x1, n = 1"},
      {64, 48, 8, 0.0, PatternKind::kRandom, 0, "nnz = 0: output is zero"},
      {30, 27, 16, 0.3, PatternKind::kEmptyRowsCols, 0, "empty rows and empty columns"},
      {9, 200, 24, 0.05, PatternKind::kDenseRow, 0, "one fully dense row among sparse ones (load imbalance)"},
      {37, 41, 1, 0.2, PatternKind::kRandom, 0, "n = 1: only a masked tail"},
      {37, 41, 5, 0.2, PatternKind::kRandom, 3, "n = 5 with padded rows (ld = 8)"},
      {37, 41, 17, 0.2, PatternKind::kRandom, 0, "n = 17: one vector plus a 1-lane tail"},
      {37, 41, 33, 0.3, PatternKind::kRandom, 7, "n = 33, padded: two vectors plus a tail, odd ld"},
      {21, 19, 129, 0.4, PatternKind::kRandom, 0, "n = 129: more than one 128-wide column tile"},
      {13, 11, 300, 0.5, PatternKind::kRandom, 4, "n = 300: several column tiles with a tail, padded"},
      {20000, 3, 17, 0.9, PatternKind::kRandom, 0, "columns longer than the transposed kernel's gather buffer"},
      {300, 784, 128, 0.1, PatternKind::kRandom, 0, "MLP 784-300-100-10 layer 1 at 90% sparsity, batch 128"},
      {100, 300, 128, 0.1, PatternKind::kRandom, 0, "MLP layer 2"},
      {10, 100, 128, 0.1, PatternKind::kRandom, 0, "MLP layer 3 (output)"},
      {4096, 4096, 16, 0.5, PatternKind::kRandom, 0, "4096x4096 at density 0.5"},
      {4096, 4096, 16, 0.1, PatternKind::kRandom, 0, "4096x4096 at density 0.1"},
      {4096, 4096, 16, 0.01, PatternKind::kRandom, 0, "4096x4096 at density 0.01"},
      // Dense operands beyond 16 MiB take the shared-slab path (spmm_tile.h): 40000 x 120 floats = 19.2 MB at
      // ld 128, so 64-wide slabs and a 56-wide tail. The first case's is B of SpMM and X of SDDMM, the second's dY of
      // the transposed SpMM.
      {300, 40000, 120, 0.002, PatternKind::kRandom, 8, "k = 40000: the dense operand exceeds the cache (shared slabs)"},
      {40000, 300, 120, 0.002, PatternKind::kRandom, 8, "m = 40000: dY of the transposed product exceeds the cache"},
  };
}

// Builds the sparse operand of a case with values in [-1, 1).
inline engine::CsrMatrix MakeCsr(const CsrCase& c, Rng& rng) {
  if (c.kind == PatternKind::kRandom) return RandomCsr(c.m, c.k, c.density, rng);
  engine::Tensor dense({c.m, c.k});
  for (int64_t i = 0; i < c.m; ++i) {
    for (int64_t j = 0; j < c.k; ++j) {
      bool keep = rng.Uniform() < c.density;
      if (c.kind == PatternKind::kEmptyRowsCols && (i % 3 == 0 || j % 3 == 0)) keep = false;
      if (c.kind == PatternKind::kDenseRow && i == c.m / 2) keep = true;
      const float v = rng.UniformFloat(-1.0f, 1.0f);
      if (keep) dense[i * c.k + j] = v != 0.0f ? v : 0.5f;
    }
  }
  return engine::CsrMatrix::FromDense(dense.view());
}

// A dense operand of rows x cols in a buffer of rows x (cols + pad), values in [-1, 1) (padding too).
struct PaddedDense {
  engine::Tensor storage;
  int64_t rows, cols;
  engine::DenseView view() { return {storage.data(), rows, cols, storage.dim(1)}; }
  engine::ConstDenseView view() const { return {storage.data(), rows, cols, storage.dim(1)}; }
};
inline PaddedDense RandomPadded(int64_t rows, int64_t cols, int64_t pad, Rng& rng) {
  return {RandomDense({rows, cols + pad}, rng), rows, cols};
}

// The first cols columns of a view, in double.
inline DenseF64 ViewToF64(engine::ConstDenseView v) {
  DenseF64 d;
  d.rows = v.rows;
  d.cols = v.cols;
  d.data.resize(v.rows * v.cols);
  for (int64_t i = 0; i < v.rows; ++i) {
    for (int64_t j = 0; j < v.cols; ++j) d.data[i * v.cols + j] = v.at(i, j);
  }
  return d;
}

// The first cols columns of a view, as a compact tensor (for AllClose).
inline engine::Tensor ViewToTensor(engine::ConstDenseView v) {
  engine::Tensor t({v.rows, v.cols});
  for (int64_t i = 0; i < v.rows; ++i) {
    for (int64_t j = 0; j < v.cols; ++j) t[i * v.cols + j] = v.at(i, j);
  }
  return t;
}

// Padding columns of `after` equal those of `before`, bit for bit (kernels must not write past cols).
inline ::testing::AssertionResult PaddingUntouched(const PaddedDense& before, const PaddedDense& after) {
  const int64_t ld = before.storage.dim(1);
  for (int64_t i = 0; i < before.rows; ++i) {
    for (int64_t j = before.cols; j < ld; ++j) {
      if (before.storage[i * ld + j] != after.storage[i * ld + j]) {
        return ::testing::AssertionFailure() << "padding written at (" << i << ", " << j << ")";
      }
    }
  }
  return ::testing::AssertionSuccess();
}

// Float32 accumulation error grows with the number of summed terms.
inline double Tolerance(int64_t terms) { return 1e-5 + 5e-7 * static_cast<double>(terms); }

}  // namespace testutil

#endif  // TESTS_ENGINE_KERNELS_KERNEL_CASES_H_
