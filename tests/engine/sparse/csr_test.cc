// Tests for CsrMatrix: dense round trips, the exact-count random pattern (count, rough uniformity, determinism),
// the transposed index against a brute-force oracle, and Validate() naming each broken invariant.
#include "engine/sparse/csr.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <omp.h>

#include <cmath>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include "engine/base/check.h"
#include "tests/testutil/testutil.h"

namespace engine {
namespace {

using ::testing::HasSubstr;

// The message of the engine::Error thrown by f, or "" when nothing is thrown.
std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A dense matrix with about `zero_fraction` exact zeros, other entries in [-1, 1) (never 0).
Tensor SparseDense(int64_t rows, int64_t cols, double zero_fraction, Rng& rng) {
  Tensor t({rows, cols});
  for (int64_t i = 0; i < t.size(); ++i) {
    t[i] = rng.Uniform() < zero_fraction ? 0.0f : rng.UniformFloat(0.25f, 1.0f) * (rng.Uniform() < 0.5 ? -1 : 1);
  }
  return t;
}

TEST(CsrMatrixTest, FromDenseToDenseRoundTrip) {
  Rng rng(3);
  for (const auto& [rows, cols] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {7, 13}, {32, 5}, {0, 4}}) {
    const Tensor dense = SparseDense(rows, cols, 0.6, rng);
    const CsrMatrix a = CsrMatrix::FromDense(dense.view());
    a.Validate();
    int64_t nonzeros = 0;
    for (int64_t i = 0; i < dense.size(); ++i) nonzeros += dense[i] != 0.0f;
    EXPECT_EQ(a.nnz(), nonzeros) << rows << " x " << cols;
    const Tensor back = a.ToDense();
    EXPECT_TRUE(testutil::BitIdentical(back.data(), dense.data(), dense.size())) << rows << " x " << cols;
    // keep_zeros stores every entry.
    const CsrMatrix full = CsrMatrix::FromDense(dense.view(), /*keep_zeros=*/true);
    EXPECT_EQ(full.nnz(), rows * cols);
    const Tensor back_full = full.ToDense();
    EXPECT_TRUE(testutil::BitIdentical(back_full.data(), dense.data(), dense.size()));
    // Find agrees with the dense matrix.
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t j = 0; j < cols; ++j) {
        const int64_t p = a.Find(i, static_cast<int32_t>(j));
        if (dense[i * cols + j] == 0.0f) {
          EXPECT_EQ(p, -1) << "(" << i << ", " << j << ")";
        } else {
          ASSERT_GE(p, 0) << "(" << i << ", " << j << ")";
          EXPECT_EQ(a.values()[p], dense[i * cols + j]);
        }
      }
    }
  }
}

TEST(CsrMatrixTest, RandomPatternHasExactCountAndIsValid) {
  Rng rng(11);
  struct Case { int64_t rows, cols, nnz; const char* why; };
  const Case cases[] = {{10, 10, 0, "empty"},         {10, 10, 100, "full"},         {1, 1, 1, "single"},
                        {50, 40, 200, "sparse path"}, {50, 40, 1900, "complement path"}, {3, 1000, 1500, "half"}};
  for (const Case& c : cases) {
    const CsrMatrix a = CsrMatrix::RandomPattern(c.rows, c.cols, c.nnz, rng);
    EXPECT_EQ(a.nnz(), c.nnz) << c.why;
    EXPECT_NO_THROW(a.Validate()) << c.why;
    for (float v : a.values()) EXPECT_EQ(v, 0.0f) << c.why;
  }
  EXPECT_THAT(ErrorOf([&] { CsrMatrix::RandomPattern(4, 5, 21, rng); }), HasSubstr("nnz = 21"));
  EXPECT_THAT(ErrorOf([&] { CsrMatrix::RandomPattern(4, 5, -1, rng); }), HasSubstr("0 <= nnz <= rows * cols"));
}

// Chi-square statistic of per-bin counts against a uniform expectation.
double ChiSquare(const std::vector<int64_t>& counts) {
  double total = 0;
  for (int64_t x : counts) total += static_cast<double>(x);
  const double expected = total / static_cast<double>(counts.size());
  double chi2 = 0;
  for (int64_t x : counts) chi2 += (x - expected) * (x - expected) / expected;
  return chi2;
}

TEST(CsrMatrixTest, RandomPatternIsRoughlyUniformOverRowsAndColumns) {
  // 400 draws of 300 positions in a 40 x 30 grid (sparse path) and of 900 (complement path). Counts per row and
  // per column are compared with a uniform expectation; the bound (dof + 8 sqrt(2 dof)) fails only for a
  // grossly biased sampler (e.g. one that favours low rows).
  for (const int64_t nnz : {int64_t{300}, int64_t{900}}) {
    Rng rng(100 + nnz);
    std::vector<int64_t> per_row(40, 0), per_col(30, 0);
    for (int trial = 0; trial < 400; ++trial) {
      const CsrMatrix a = CsrMatrix::RandomPattern(40, 30, nnz, rng);
      for (int64_t i = 0; i < 40; ++i) {
        per_row[i] += a.row_offsets()[i + 1] - a.row_offsets()[i];
        for (int64_t p = a.row_offsets()[i]; p < a.row_offsets()[i + 1]; ++p) ++per_col[a.col_indices()[p]];
      }
    }
    EXPECT_LT(ChiSquare(per_row), 39 + 8 * std::sqrt(2.0 * 39)) << "nnz " << nnz;
    EXPECT_LT(ChiSquare(per_col), 29 + 8 * std::sqrt(2.0 * 29)) << "nnz " << nnz;
  }
}

TEST(CsrMatrixTest, RandomPatternDependsOnlyOnTheSeed) {
  Rng a_rng(5), b_rng(5), c_rng(6);
  const CsrMatrix a = CsrMatrix::RandomPattern(30, 20, 100, a_rng);
  const CsrMatrix b = CsrMatrix::RandomPattern(30, 20, 100, b_rng);
  const CsrMatrix c = CsrMatrix::RandomPattern(30, 20, 100, c_rng);
  EXPECT_EQ(a.row_offsets(), b.row_offsets());
  EXPECT_EQ(a.col_indices(), b.col_indices());
  EXPECT_NE(a.col_indices(), c.col_indices());
}

// The small matrix takes the serial build; the large one (over 2^16 entries) the parallel one, on 1 to 3 threads
// (whose row runs split the matrix differently).
TEST(CsrMatrixTest, TransposedIndexMatchesBruteForce) {
  Rng rng(21);
  const int threads_before = omp_get_max_threads();
  for (const auto& shape : {std::make_tuple(23, 17, 0.3), std::make_tuple(700, 300, 0.4)}) {
    const CsrMatrix original = testutil::RandomCsr(std::get<0>(shape), std::get<1>(shape), std::get<2>(shape), rng);
    for (const int threads : {1, 2, 3}) {
      omp_set_num_threads(threads);
      const CsrMatrix a = original;  // a fresh copy builds its own index
      const CsrView v = a.view(/*with_transpose=*/true);
      ASSERT_NE(v.t_col_offsets, nullptr);
      const std::string context = std::to_string(a.rows()) + " x " + std::to_string(a.cols()) + ", threads " +
                                  std::to_string(threads);
      int64_t q = 0;
      for (int64_t j = 0; j < a.cols(); ++j) {
        ASSERT_EQ(v.t_col_offsets[j], q) << "column " << j << ", " << context;
        // Brute force: scan rows in order for column j.
        for (int64_t i = 0; i < a.rows(); ++i) {
          const int64_t p = a.Find(i, static_cast<int32_t>(j));
          if (p < 0) continue;
          ASSERT_LT(q, a.nnz());
          ASSERT_EQ(v.t_positions[q], p) << "column " << j << " row " << i << ", " << context;
          ASSERT_EQ(v.t_rows[q], i) << "column " << j << ", " << context;
          ++q;
        }
      }
      EXPECT_EQ(v.t_col_offsets[a.cols()], a.nnz()) << context;
      EXPECT_EQ(q, a.nnz()) << context;
    }
  }
  omp_set_num_threads(threads_before);
}

TEST(CsrMatrixTest, ValidateNamesEachBrokenInvariant) {
  using V64 = std::vector<int64_t>;
  using V32 = std::vector<int32_t>;
  using VF = std::vector<float>;
  // A valid 2 x 3 matrix first, so a failure below is the invariant under test.
  EXPECT_NO_THROW(CsrMatrix::FromParts(2, 3, V64{0, 2, 3}, V32{0, 2, 1}, VF{1, 2, 3}));
  struct Broken { std::function<void()> make; const char* invariant; };
  const Broken cases[] = {
      {[] { CsrMatrix::FromParts(2, 3, V64{0, 2}, V32{0, 2}, VF{1, 2}); }, "`row_offsets.size() == rows + 1`"},
      {[] { CsrMatrix::FromParts(2, 3, V64{0, 2, 3}, V32{0, 2, 1}, VF{1, 2}); },
       "`values.size() == col_indices.size()`"},
      {[] { CsrMatrix::FromParts(2, 3, V64{1, 2, 3}, V32{0, 2, 1}, VF{1, 2, 3}); }, "`row_offsets[0] == 0`"},
      {[] { CsrMatrix::FromParts(2, 3, V64{0, 3, 2}, V32{0, 2, 1}, VF{1, 2, 3}); },
       "`row_offsets[i] <= row_offsets[i + 1]`"},
      {[] { CsrMatrix::FromParts(2, 3, V64{0, 2, 2}, V32{0, 2, 1}, VF{1, 2, 3}); }, "`row_offsets[rows] == nnz`"},
      {[] { CsrMatrix::FromParts(2, 3, V64{0, 2, 3}, V32{0, 3, 1}, VF{1, 2, 3}); }, "`0 <= col_indices < cols`"},
      {[] { CsrMatrix::FromParts(2, 3, V64{0, 2, 3}, V32{0, -1, 1}, VF{1, 2, 3}); }, "`0 <= col_indices < cols`"},
      {[] { CsrMatrix::FromParts(2, 3, V64{0, 2, 3}, V32{2, 2, 1}, VF{1, 2, 3}); },
       "`col_indices unique within a row`"},
      {[] { CsrMatrix::FromParts(2, 3, V64{0, 2, 3}, V32{2, 0, 1}, VF{1, 2, 3}); },
       "`col_indices sorted within a row`"},
      {[] { CsrMatrix::FromParts(-1, 3, V64{0}, V32{}, VF{}); }, "rows >= 0"},
      // Below -1, rows + 1 offsets would be a huge size_t: the check must come before any allocation.
      {[] { CsrMatrix(-5, 3); }, "shape -5 x 3 given; expected rows >= 0"},
      {[] { CsrMatrix(2, -1); }, "shape 2 x -1 given; expected rows >= 0, cols >= 0"},
  };
  for (const Broken& b : cases) {
    const std::string message = ErrorOf(b.make);
    EXPECT_THAT(message, HasSubstr(b.invariant));
    // Validate's messages name the matrix (FromParts passes its own name); the constructor's state the rule.
    EXPECT_THAT(message, ::testing::AnyOf(HasSubstr("CsrMatrix::FromParts: `"), HasSubstr("; expected")));
  }
}

}  // namespace
}  // namespace engine
