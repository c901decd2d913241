// Tests for the BSR kernels (SpmmBsr, SpmmBsrTransposed, SddmmBsr and their Accumulate / Naive twins) against
// dense double-precision oracles on the densified operand, over a shape table with block-size and vector-width
// residues, on both the AVX-512 and the portable path; plus thread-count determinism, overwrite semantics,
// padding never read, and the FLOP count.
#include "engine/kernels/bsr_spmm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "engine/base/cpu.h"
#include "engine/base/flop_counter.h"
#include "engine/base/parallel.h"
#include "engine/sparse/bsr.h"
#include "tests/testutil/testutil.h"

namespace engine::kernels {
namespace {

struct Case {
  int64_t m, k, n, block_rows, block_cols;
  double block_density;  // fraction of the block grid stored
  const char* why;
};

const Case kCases[] = {
    {1, 1, 1, 1, 1, 1.0, "smallest"},
    {8, 8, 16, 4, 1, 0.0, "no stored blocks"},
    {16, 40, 64, 1, 1, 0.2, "1x1 blocks: plain CSR"},
    {33, 70, 5, 4, 1, 0.1, "4x1, row residue, n < one vector"},
    {64, 64, 128, 4, 1, 1.0, "4x1, fully dense"},
    {30, 45, 37, 8, 1, 0.3, "8x1, row residue 6, n tail 5"},
    {128, 96, 48, 8, 1, 0.2, "8x1, n = 3 vectors: exactly one tile"},
    {64, 64, 128, 8, 1, 0.3, "8x1, n = 8 vectors: tiles of 3, 3, then a remainder tile of 2"},
    {32, 20, 100, 4, 1, 0.5, "4x1, n = 6.25 vectors: a tile of 4, then a masked remainder of 3"},
    {17, 19, 33, 1, 4, 0.4, "1x4, col residue 3"},
    {18, 22, 20, 4, 4, 0.5, "4x4, row and col residues"},
    {9, 9, 130, 4, 4, 0.6, "4x4, n = 8 vectors + 2"},
    {12, 12, 16, 2, 2, 0.5, "2x2"},
    {20, 24, 24, 2, 8, 0.5, "2x8: SpmmBsr with a runtime block width; transposed on the portable path"},
    {40, 36, 17, 3, 2, 0.3, "3x2: no AVX-512 tile, portable everywhere"},
    {256, 784, 128, 4, 1, 0.1, "MLP layer 784 -> 256 at 90% sparsity"},
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.why; }

std::string Describe(const Case& c, bool portable) {
  return std::string(c.why) + " (" + std::to_string(c.m) + "x" + std::to_string(c.k) + "x" + std::to_string(c.n) +
         ", blocks " + std::to_string(c.block_rows) + "x" + std::to_string(c.block_cols) + ", " +
         (portable ? "portable" : IsaName(ActiveIsa())) + ")";
}

// Random block pattern with values in [-1, 1) inside the matrix and `padding` in the padding entries (NaN
// proves kernels never read them).
BsrMatrix RandomBsr(const Case& c, Rng& rng, float padding) {
  BsrMatrix probe(c.m, c.k, c.block_rows, c.block_cols);
  const int64_t grid = probe.row_blocks() * probe.col_blocks();
  const int64_t nnz_blocks = static_cast<int64_t>(std::llround(c.block_density * static_cast<double>(grid)));
  BsrMatrix a = BsrMatrix::RandomPattern(c.m, c.k, c.block_rows, c.block_cols, nnz_blocks, rng);
  const int64_t br = c.block_rows, bc = c.block_cols;
  for (int64_t ib = 0; ib < a.row_blocks(); ++ib) {
    for (int64_t p = a.block_row_offsets()[ib]; p < a.block_row_offsets()[ib + 1]; ++p) {
      const int64_t jb = a.block_col_indices()[p];
      for (int64_t r = 0; r < br; ++r) {
        for (int64_t q = 0; q < bc; ++q) {
          const bool inside = ib * br + r < c.m && jb * bc + q < c.k;
          a.mutable_values()[p * br * bc + r * bc + q] = inside ? rng.UniformFloat(-1.0f, 1.0f) : padding;
        }
      }
    }
  }
  return a;
}

class BsrKernelTest : public ::testing::TestWithParam<Case> {
 protected:
  void TearDown() override { ForcePortableIsa(false); }
};

TEST_P(BsrKernelTest, SpmmMatchesDenseDoubleReference) {
  const Case& c = GetParam();
  for (const bool portable : {false, true}) {
    ForcePortableIsa(portable);
    const std::string where = Describe(c, portable);
    Rng rng(7);
    const BsrMatrix a = RandomBsr(c, rng, std::numeric_limits<float>::quiet_NaN());
    const Tensor b = testutil::RandomDense({c.k, c.n}, rng);
    const testutil::DenseF64 expected = testutil::MatmulF64(testutil::ToF64(a.ToDense()), testutil::ToF64(b));
    Tensor out({c.m, c.n});
    out.Fill(std::numeric_limits<float>::quiet_NaN());  // overwritten everywhere
    SpmmBsr(a.view(), b.view(), out.view());
    EXPECT_TRUE(testutil::AllClose(out, expected, 1e-4)) << where;
    Tensor naive({c.m, c.n});
    SpmmBsrNaive(a.view(), b.view(), naive.view());
    EXPECT_TRUE(testutil::AllClose(naive, expected, 1e-4)) << where << " naive";

    // Bias then ReLU.
    std::vector<float> bias(c.m);
    for (float& v : bias) v = rng.UniformFloat(-0.5f, 0.5f);
    testutil::DenseF64 expected_relu = expected;
    for (int64_t i = 0; i < c.m; ++i) {
      for (int64_t j = 0; j < c.n; ++j) {
        double& e = expected_relu.data[i * c.n + j];
        e = std::max(e + bias[i], 0.0);
      }
    }
    SpmmBsr(a.view(), b.view(), out.view(), bias.data(), /*relu=*/true);
    EXPECT_TRUE(testutil::AllClose(out, expected_relu, 1e-4)) << where << " bias+relu";
    SpmmBsrNaive(a.view(), b.view(), naive.view(), bias.data(), /*relu=*/true);
    EXPECT_TRUE(testutil::AllClose(naive, expected_relu, 1e-4)) << where << " naive bias+relu";

    // Accumulate onto a random C.
    Tensor acc = testutil::RandomDense({c.m, c.n}, rng);
    testutil::DenseF64 expected_acc = testutil::ToF64(acc);
    for (size_t t = 0; t < expected_acc.data.size(); ++t) expected_acc.data[t] += expected.data[t];
    SpmmBsrAccumulate(a.view(), b.view(), acc.view());
    EXPECT_TRUE(testutil::AllClose(acc, expected_acc, 1e-4)) << where << " accumulate";
  }
}

TEST_P(BsrKernelTest, TransposedMatchesDenseDoubleReference) {
  const Case& c = GetParam();
  for (const bool portable : {false, true}) {
    ForcePortableIsa(portable);
    const std::string where = Describe(c, portable);
    Rng rng(8);
    const BsrMatrix a = RandomBsr(c, rng, std::numeric_limits<float>::quiet_NaN());
    const Tensor b = testutil::RandomDense({c.m, c.n}, rng);
    const testutil::DenseF64 expected =
        testutil::MatmulF64(testutil::ToF64(a.ToDense()), testutil::ToF64(b), /*transpose_a=*/true);
    Tensor out({c.k, c.n});
    out.Fill(std::numeric_limits<float>::quiet_NaN());
    SpmmBsrTransposed(a.view(/*with_transpose=*/true), b.view(), out.view());
    EXPECT_TRUE(testutil::AllClose(out, expected, 1e-4)) << where;
    Tensor naive({c.k, c.n});
    SpmmBsrTransposedNaive(a.view(), b.view(), naive.view());
    EXPECT_TRUE(testutil::AllClose(naive, expected, 1e-4)) << where << " naive";
    Tensor acc = testutil::RandomDense({c.k, c.n}, rng);
    testutil::DenseF64 expected_acc = testutil::ToF64(acc);
    for (size_t t = 0; t < expected_acc.data.size(); ++t) expected_acc.data[t] += expected.data[t];
    SpmmBsrTransposedAccumulate(a.view(/*with_transpose=*/true), b.view(), acc.view());
    EXPECT_TRUE(testutil::AllClose(acc, expected_acc, 1e-4)) << where << " accumulate";
  }
}

TEST_P(BsrKernelTest, SddmmMatchesDenseDoubleReference) {
  const Case& c = GetParam();
  for (const bool portable : {false, true}) {
    ForcePortableIsa(portable);
    const std::string where = Describe(c, portable);
    Rng rng(9);
    const BsrMatrix a = RandomBsr(c, rng, 0.0f);
    const Tensor g = testutil::RandomDense({c.m, c.n}, rng);
    const Tensor x = testutil::RandomDense({c.k, c.n}, rng);
    // Dense oracle: G Xᵀ, then sampled at every entry of every stored block (padding expected 0).
    const testutil::DenseF64 full =
        testutil::MatmulF64(testutil::ToF64(g), testutil::ToF64(x), false, /*transpose_b=*/true);
    const int64_t br = c.block_rows, bc = c.block_cols, bs = br * bc;
    std::vector<double> expected(a.values().size(), 0.0);
    for (int64_t ib = 0; ib < a.row_blocks(); ++ib) {
      for (int64_t p = a.block_row_offsets()[ib]; p < a.block_row_offsets()[ib + 1]; ++p) {
        const int64_t jb = a.block_col_indices()[p];
        for (int64_t r = 0; r < br; ++r) {
          for (int64_t q = 0; q < bc; ++q) {
            if (ib * br + r >= c.m || jb * bc + q >= c.k) continue;  // padding: expected 0
            expected[p * bs + r * bc + q] = full.at(ib * br + r, jb * bc + q);
          }
        }
      }
    }
    std::vector<float> out(a.values().size(), std::numeric_limits<float>::quiet_NaN());
    SddmmBsr(a.view(), g.view(), x.view(), out.data());
    EXPECT_TRUE(testutil::AllClose(out, expected, 1e-4)) << where;
    std::vector<float> naive(a.values().size(), std::numeric_limits<float>::quiet_NaN());
    SddmmBsrNaive(a.view(), g.view(), x.view(), naive.data());
    EXPECT_TRUE(testutil::AllClose(naive, expected, 1e-4)) << where << " naive";
    // Accumulate onto 1.0 everywhere (padding stays 1.0: untouched).
    std::vector<float> acc(a.values().size(), 1.0f);
    std::vector<double> expected_acc = expected;
    for (int64_t ib = 0; ib < a.row_blocks(); ++ib) {
      for (int64_t p = a.block_row_offsets()[ib]; p < a.block_row_offsets()[ib + 1]; ++p) {
        for (int64_t e = 0; e < bs; ++e) expected_acc[p * bs + e] += 1.0;
      }
    }
    SddmmBsrAccumulate(a.view(), g.view(), x.view(), acc.data());
    EXPECT_TRUE(testutil::AllClose(acc, expected_acc, 1e-4)) << where << " accumulate";
  }
}

TEST_P(BsrKernelTest, OneAndTwoThreadsAreBitIdentical) {
  const Case& c = GetParam();
  Rng rng(10);
  const BsrMatrix a = RandomBsr(c, rng, 0.0f);
  const Tensor b = testutil::RandomDense({c.k, c.n}, rng);
  const Tensor bt = testutil::RandomDense({c.m, c.n}, rng);
  Tensor y1({c.m, c.n}), y2({c.m, c.n}), t1({c.k, c.n}), t2({c.k, c.n});
  std::vector<float> s1(a.values().size()), s2(a.values().size());
  SetNumThreads(1);
  SpmmBsr(a.view(), b.view(), y1.view());
  SpmmBsrTransposed(a.view(true), bt.view(), t1.view());
  SddmmBsr(a.view(), bt.view(), b.view(), s1.data());
  SetNumThreads(2);
  SpmmBsr(a.view(), b.view(), y2.view());
  SpmmBsrTransposed(a.view(true), bt.view(), t2.view());
  SddmmBsr(a.view(), bt.view(), b.view(), s2.data());
  EXPECT_TRUE(testutil::BitIdentical(y1.data(), y2.data(), y1.size())) << c.why << " SpmmBsr";
  EXPECT_TRUE(testutil::BitIdentical(t1.data(), t2.data(), t1.size())) << c.why << " SpmmBsrTransposed";
  EXPECT_TRUE(testutil::BitIdentical(s1.data(), s2.data(), static_cast<int64_t>(s1.size()))) << c.why << " Sddmm";
}

INSTANTIATE_TEST_SUITE_P(Shapes, BsrKernelTest, ::testing::ValuesIn(kCases));

TEST(BsrKernelFlopsTest, CountsUsefulEntriesOnly) {
  // 6 x 5 in 4x4 blocks, every block stored: 30 useful entries (64 stored floats with padding).
  Rng rng(1);
  const BsrMatrix a = BsrMatrix::RandomPattern(6, 5, 4, 4, 4, rng);
  ASSERT_EQ(a.entries(), 30);
  const Tensor b = testutil::RandomDense({5, 3}, rng);
  Tensor c({6, 3});
  FlopCounter::Reset();
  SpmmBsr(a.view(), b.view(), c.view());
  EXPECT_EQ(FlopCounter::Get(), 2u * 30u * 3u);
}

}  // namespace
}  // namespace engine::kernels
