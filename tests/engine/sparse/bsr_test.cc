// Tests for BsrMatrix: dense and CSR round trips for each block shape with residues (padding), the exact-count
// random block pattern, the transposed block index against brute force, and Validate() naming each invariant.
#include "engine/sparse/bsr.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "engine/base/check.h"
#include "tests/testutil/testutil.h"

namespace engine {
namespace {

using ::testing::HasSubstr;

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

struct Shape { int64_t rows, cols, block_rows, block_cols; const char* why; };
const Shape kShapes[] = {
    {1, 1, 1, 1, "smallest, 1x1 blocks"},  {16, 16, 4, 1, "4x1, multiples"},   {13, 10, 4, 1, "4x1, row residue 1"},
    {19, 7, 8, 1, "8x1, row residue 3"},    {9, 14, 1, 4, "1x4, col residue 2"}, {18, 22, 4, 4, "4x4, both residues"},
    {3, 3, 4, 4, "smaller than one block"}, {10, 9, 3, 2, "odd block shape"},    {0, 5, 4, 1, "no rows"},
};

// Dense matrix where whole blocks and single entries are zero at random (so some blocks are partly zero).
Tensor BlockyDense(const Shape& s, Rng& rng) {
  Tensor t({s.rows, s.cols});
  for (int64_t i = 0; i < s.rows; ++i) {
    for (int64_t j = 0; j < s.cols; ++j) {
      const double block_draw = HashUniform(7, i / s.block_rows, j / s.block_cols);
      const bool zero = block_draw < 0.5 || rng.Uniform() < 0.3;
      t[i * s.cols + j] = zero ? 0.0f : rng.UniformFloat(0.1f, 1.0f);
    }
  }
  return t;
}

TEST(BsrMatrixTest, DenseRoundTripForEachBlockShape) {
  Rng rng(1);
  for (const Shape& s : kShapes) {
    const Tensor dense = BlockyDense(s, rng);
    // An explicit view: Tensor::view() of a 0-row tensor reports 0 cols.
    const ConstDenseView view{dense.data(), s.rows, s.cols, s.cols};
    const BsrMatrix a = BsrMatrix::FromDense(view, s.block_rows, s.block_cols);
    EXPECT_NO_THROW(a.Validate()) << s.why;
    EXPECT_EQ(a.row_blocks(), (s.rows + s.block_rows - 1) / s.block_rows) << s.why;
    EXPECT_EQ(a.col_blocks(), (s.cols + s.block_cols - 1) / s.block_cols) << s.why;
    // Brute force: a block is stored iff some entry of it is nonzero; entries counts in-bounds entries.
    int64_t blocks = 0, entries = 0;
    for (int64_t ib = 0; ib < a.row_blocks(); ++ib) {
      for (int64_t jb = 0; jb < a.col_blocks(); ++jb) {
        bool any = false;
        int64_t inside = 0;
        for (int64_t i = ib * s.block_rows; i < std::min(s.rows, (ib + 1) * s.block_rows); ++i) {
          for (int64_t j = jb * s.block_cols; j < std::min(s.cols, (jb + 1) * s.block_cols); ++j) {
            any |= dense[i * s.cols + j] != 0.0f;
            ++inside;
          }
        }
        EXPECT_EQ(a.FindBlock(ib, static_cast<int32_t>(jb)) >= 0, any) << s.why << " block " << ib << ", " << jb;
        blocks += any;
        entries += any ? inside : 0;
      }
    }
    EXPECT_EQ(a.nnz_blocks(), blocks) << s.why;
    EXPECT_EQ(a.entries(), entries) << s.why;
    EXPECT_EQ(static_cast<int64_t>(a.values().size()), blocks * s.block_rows * s.block_cols) << s.why;
    const Tensor back = a.ToDense();
    EXPECT_TRUE(testutil::BitIdentical(back.data(), dense.data(), dense.size())) << s.why;
    // Padding entries hold 0.
    const int64_t bs = a.block_size();
    for (int64_t ib = 0; ib < a.row_blocks(); ++ib) {
      for (int64_t p = a.block_row_offsets()[ib]; p < a.block_row_offsets()[ib + 1]; ++p) {
        for (int64_t r = 0; r < s.block_rows; ++r) {
          for (int64_t c = 0; c < s.block_cols; ++c) {
            if (ib * s.block_rows + r >= s.rows || a.block_col_indices()[p] * s.block_cols + c >= s.cols) {
              EXPECT_EQ(a.values()[p * bs + r * s.block_cols + c], 0.0f) << s.why << " padding of block " << p;
            }
          }
        }
      }
    }
  }
}

TEST(BsrMatrixTest, CsrRoundTripForEachBlockShape) {
  Rng rng(2);
  for (const Shape& s : kShapes) {
    const CsrMatrix csr = testutil::RandomCsr(s.rows, s.cols, 0.3, rng);
    const BsrMatrix a = BsrMatrix::FromCsr(csr, s.block_rows, s.block_cols);
    EXPECT_NO_THROW(a.Validate()) << s.why;
    const Tensor expected = csr.ToDense();
    const Tensor got = a.ToDense();
    EXPECT_TRUE(testutil::BitIdentical(got.data(), expected.data(), expected.size())) << s.why;
    // Every CSR entry lies in a stored block.
    for (int64_t i = 0; i < s.rows; ++i) {
      for (int64_t p = csr.row_offsets()[i]; p < csr.row_offsets()[i + 1]; ++p) {
        EXPECT_GE(a.FindBlock(i / s.block_rows, csr.col_indices()[p] / static_cast<int32_t>(s.block_cols)), 0)
            << s.why;
      }
    }
    // ToCsr stores every in-bounds entry of every stored block; converting back gives the same BSR.
    const CsrMatrix blocked = a.ToCsr();
    EXPECT_EQ(blocked.nnz(), a.entries()) << s.why;
    const BsrMatrix again = BsrMatrix::FromCsr(blocked, s.block_rows, s.block_cols);
    EXPECT_EQ(again.block_row_offsets(), a.block_row_offsets()) << s.why;
    EXPECT_EQ(again.block_col_indices(), a.block_col_indices()) << s.why;
    EXPECT_TRUE(testutil::BitIdentical(again.values().data(), a.values().data(),
                                       static_cast<int64_t>(a.values().size())))
        << s.why;
  }
}

TEST(BsrMatrixTest, OneByOneBlocksAreTheCsrMatrix) {
  Rng rng(3);
  const CsrMatrix csr = testutil::RandomCsr(12, 9, 0.4, rng);
  const BsrMatrix a = BsrMatrix::FromCsr(csr, 1, 1);
  EXPECT_EQ(a.block_row_offsets(), csr.row_offsets());
  EXPECT_EQ(a.block_col_indices(), csr.col_indices());
  EXPECT_TRUE(testutil::BitIdentical(a.values().data(), csr.values().data(), csr.nnz()));
}

TEST(BsrMatrixTest, RandomPatternHasExactBlockCount) {
  Rng rng(4);
  for (const Shape& s : kShapes) {
    const int64_t grid = ((s.rows + s.block_rows - 1) / s.block_rows) * ((s.cols + s.block_cols - 1) / s.block_cols);
    for (const int64_t want : {int64_t{0}, grid / 3, grid}) {
      const BsrMatrix a = BsrMatrix::RandomPattern(s.rows, s.cols, s.block_rows, s.block_cols, want, rng);
      EXPECT_EQ(a.nnz_blocks(), want) << s.why;
      EXPECT_NO_THROW(a.Validate()) << s.why;
      for (float v : a.values()) EXPECT_EQ(v, 0.0f);
    }
  }
  Rng x(9), y(9);
  EXPECT_EQ(BsrMatrix::RandomPattern(40, 40, 4, 1, 100, x).block_col_indices(),
            BsrMatrix::RandomPattern(40, 40, 4, 1, 100, y).block_col_indices());
  EXPECT_THAT(ErrorOf([&] { BsrMatrix::RandomPattern(8, 8, 4, 4, 5, rng); }), HasSubstr("nnz_blocks = 5"));
  EXPECT_THAT(ErrorOf([&] { BsrMatrix(8, 8, 0, 4); }), HasSubstr("block_rows >= 1"));
}

TEST(BsrMatrixTest, TransposedBlockIndexMatchesBruteForce) {
  Rng rng(5);
  const BsrMatrix a = BsrMatrix::RandomPattern(30, 26, 4, 4, 20, rng);
  const BsrView v = a.view(/*with_transpose=*/true);
  int64_t q = 0;
  for (int64_t jb = 0; jb < a.col_blocks(); ++jb) {
    EXPECT_EQ(v.t_block_col_offsets[jb], q) << "block column " << jb;
    for (int64_t ib = 0; ib < a.row_blocks(); ++ib) {
      const int64_t p = a.FindBlock(ib, static_cast<int32_t>(jb));
      if (p < 0) continue;
      EXPECT_EQ(v.t_block_positions[q], p);
      EXPECT_EQ(v.t_block_rows[q], ib);
      ++q;
    }
  }
  EXPECT_EQ(q, a.nnz_blocks());
  EXPECT_EQ(v.t_block_col_offsets[a.col_blocks()], a.nnz_blocks());
}

TEST(BsrMatrixTest, ValidateNamesEachBrokenInvariant) {
  using V64 = std::vector<int64_t>;
  using V32 = std::vector<int32_t>;
  using VF = std::vector<float>;
  // 5 x 6 matrix, 2 x 2 blocks: a 3 x 3 block grid. A valid one first.
  const VF two_blocks(8, 1.0f);
  EXPECT_NO_THROW(BsrMatrix::FromParts(5, 6, 2, 2, V64{0, 1, 2, 2}, V32{0, 2}, two_blocks));
  struct Broken { std::function<void()> make; const char* invariant; };
  const Broken cases[] = {
      {[&] { BsrMatrix::FromParts(5, 6, 2, 2, V64{0, 1, 2}, V32{0, 2}, two_blocks); },
       "`block_row_offsets.size() == row_blocks + 1`"},
      {[&] { BsrMatrix::FromParts(5, 6, 2, 2, V64{0, 1, 2, 2}, V32{0, 2}, VF(7, 1.0f)); },
       "`values.size() == nnz_blocks * block_rows * block_cols`"},
      {[&] { BsrMatrix::FromParts(5, 6, 2, 2, V64{1, 1, 2, 2}, V32{0, 2}, two_blocks); },
       "`block_row_offsets[0] == 0`"},
      {[&] { BsrMatrix::FromParts(5, 6, 2, 2, V64{0, 2, 1, 2}, V32{0, 2}, two_blocks); },
       "`block_row_offsets[ib] <= block_row_offsets[ib + 1]`"},
      {[&] { BsrMatrix::FromParts(5, 6, 2, 2, V64{0, 1, 1, 1}, V32{0, 2}, two_blocks); },
       "`block_row_offsets[row_blocks] == nnz_blocks`"},
      {[&] { BsrMatrix::FromParts(5, 6, 2, 2, V64{0, 1, 2, 2}, V32{0, 3}, two_blocks); },
       "`0 <= block_col_indices < col_blocks`"},
      {[&] { BsrMatrix::FromParts(5, 6, 2, 2, V64{0, 2, 2, 2}, V32{1, 1}, two_blocks); },
       "`block_col_indices unique within a block row`"},
      {[&] { BsrMatrix::FromParts(5, 6, 2, 2, V64{0, 2, 2, 2}, V32{2, 1}, two_blocks); },
       "`block_col_indices sorted within a block row`"},
  };
  for (const Broken& b : cases) {
    const std::string message = ErrorOf(b.make);
    EXPECT_THAT(message, HasSubstr(b.invariant));
    EXPECT_THAT(message, HasSubstr("BsrMatrix::FromParts: `"));
  }
}

}  // namespace
}  // namespace engine
