// Tests for the BSR kernels (SpmmBsr, SpmmBsrTransposed, SddmmBsr and their Accumulate / Naive twins) against
// dense double-precision oracles on the densified operand, over a shape table with block-size and vector-width
// residues and padded rows, on every ISA path the CPU runs (engine::SupportedIsas(): portable, avx2, avx512); plus
// the bias / ReLU epilogue, the ISA paths agreeing within rounding (the contract of bsr_spmm.h: they are not bitwise
// equal), 1 vs 2 threads bit-identical on each path, overwrite semantics, padding never read or written, and the
// FLOP count.
#include "engine/kernels/bsr_spmm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "engine/base/cpu.h"
#include "engine/base/flop_counter.h"
#include "engine/base/parallel.h"
#include "engine/sparse/bsr.h"
#include "tests/engine/kernels/kernel_cases.h"
#include "tests/testutil/testutil.h"

namespace engine::kernels {
namespace {

using testutil::DenseF64;
using testutil::PaddedDense;

struct Case {
  int64_t m, k, n, block_rows, block_cols;
  double block_density;  // fraction of the block grid stored
  int64_t pad;           // ld = n + pad for every dense operand
  const char* why;
};

// AVX2 tiles are 8 floats a vector; SpmmBsr tiles 8 / 4 / 2 / 2 vectors for 1 / 2 / 4 / 8-row blocks (8-row blocks
// as two 4-row halves), the transposed tiles 8 / 4 / 2 vectors for 1 / 2 / 4-column blocks, SDDMM groups of 8
// accumulators. AVX-512 tiles are 16 floats a vector.
const Case kCases[] = {
    {1, 1, 1, 1, 1, 1.0, 0, "smallest"},
    {8, 8, 16, 4, 1, 0.0, 0, "no stored blocks"},
    {16, 40, 64, 1, 1, 0.2, 0, "1x1 blocks: plain CSR; one 8-vector AVX2 tile"},
    {24, 80, 70, 1, 1, 0.5, 3, "1x1, n = 70: an 8-vector tile, then a masked 6-lane one; SDDMM groups of 8 + rest"},
    {33, 70, 5, 4, 1, 0.1, 0, "4x1, row residue, n < one vector"},
    {64, 64, 128, 4, 1, 1.0, 0, "4x1, fully dense"},
    {40, 30, 24, 4, 1, 0.4, 0, "4x1, n = 3 AVX2 vectors: a 2-vector tile, then an unmasked 1-vector remainder"},
    {30, 45, 37, 8, 1, 0.3, 0, "8x1, row residue 6, n tail 5"},
    {128, 96, 48, 8, 1, 0.2, 0, "8x1, n = 3 vectors: exactly one AVX-512 tile"},
    {64, 64, 128, 8, 1, 0.3, 0, "8x1, n = 8 vectors: tiles of 3, 3, then a remainder tile of 2"},
    {40, 50, 20, 8, 1, 0.4, 5, "8x1, n = 20, padded: AVX2 halves, a 2-vector tile and a masked 4-lane one"},
    {32, 20, 100, 4, 1, 0.5, 0, "4x1, n = 6.25 vectors: a tile of 4, then a masked remainder of 3"},
    {22, 30, 40, 2, 1, 0.5, 2, "2x1, n = 40, padded: a 4-vector AVX2 tile and an unmasked 1-vector remainder"},
    {17, 19, 33, 1, 4, 0.4, 0, "1x4, col residue 3"},
    {18, 22, 20, 4, 4, 0.5, 0, "4x4, row and col residues"},
    {9, 9, 130, 4, 4, 0.6, 0, "4x4, n = 8 vectors + 2: the transposed product's second column chunk"},
    {20, 24, 56, 4, 4, 0.5, 1, "4x4, n = 7 AVX2 vectors, padded: 2-row SDDMM halves over full vectors only"},
    {12, 12, 16, 2, 2, 0.5, 0, "2x2"},
    {36, 26, 29, 4, 2, 0.4, 0, "4x2: SpmmBsr with a runtime block width, transposed 2-column tiles, SDDMM portable"},
    {30, 22, 45, 8, 4, 0.5, 0, "8x4, row residue 6, col residue 2: SDDMM on the portable path"},
    {20, 24, 24, 2, 8, 0.5, 0, "2x8: SpmmBsr with a runtime block width; transposed on the portable path"},
    {40, 36, 17, 3, 2, 0.3, 0, "3x2: no register tile, portable everywhere"},
    {256, 784, 128, 4, 1, 0.1, 0, "MLP layer 784 -> 256 at 90% sparsity"},
    // B beyond the pack buffer (1100 x 130 floats > 512 KiB) and each row of B read by >= 64 block rows: the AVX2
    // SpmmBsr slab walk (16-column slabs, a 2-column tail slab; the clipped last block row on the portable loops).
    {1023, 1100, 130, 4, 1, 0.3, 0, "4x1 slab walk, row residue 3, tail slab of 2"},
    {1020, 1100, 130, 8, 1, 0.6, 3, "8x1 slab walk, padded, row residue 4"},
    {1023, 1101, 130, 4, 4, 0.3, 0, "4x4 slab walk, row and col residues"},
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.why; }

std::string Describe(const Case& c) {
  return std::string(c.why) + " (" + std::to_string(c.m) + "x" + std::to_string(c.k) + "x" + std::to_string(c.n) +
         ", blocks " + std::to_string(c.block_rows) + "x" + std::to_string(c.block_cols) + ", pad " +
         std::to_string(c.pad) + ", isa " + IsaName(ActiveIsa()) + ")";
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

// A copy of `base` whose entries inside the matrix are NaN (an output the kernel must overwrite everywhere); its
// padding columns keep base's values, so PaddingUntouched(base, out) checks that none is written.
PaddedDense NanInside(const PaddedDense& base) {
  PaddedDense out = base;
  for (int64_t i = 0; i < out.rows; ++i) {
    for (int64_t j = 0; j < out.cols; ++j) out.view().row(i)[j] = std::numeric_limits<float>::quiet_NaN();
  }
  return out;
}

// e + addend[i, j] (the Accumulate oracle).
DenseF64 Plus(const DenseF64& e, const DenseF64& addend) {
  DenseF64 sum = e;
  for (size_t t = 0; t < sum.data.size(); ++t) sum.data[t] += addend.data[t];
  return sum;
}

// out matches want inside the matrix and its padding columns are those of c0, the buffer it started as.
void ExpectOutput(const PaddedDense& out, const PaddedDense& c0, const DenseF64& want, const std::string& where) {
  EXPECT_TRUE(testutil::AllClose(testutil::ViewToTensor(out.view()), want, 1e-4)) << where;
  EXPECT_TRUE(testutil::PaddingUntouched(c0, out)) << where;
}

class BsrKernelTest : public ::testing::TestWithParam<Case> {
 protected:
  void TearDown() override {
    ForcePortableIsa(false);
    SetNumThreads(2);
  }
};

TEST_P(BsrKernelTest, SpmmMatchesDenseDoubleReferenceOnEveryIsa) {
  const Case& c = GetParam();
  Rng rng(7);
  const BsrMatrix a = RandomBsr(c, rng, std::numeric_limits<float>::quiet_NaN());
  const PaddedDense b = testutil::RandomPadded(c.k, c.n, c.pad, rng);
  const PaddedDense c0 = testutil::RandomPadded(c.m, c.n, c.pad, rng);
  std::vector<float> bias(c.m);
  for (float& v : bias) v = rng.UniformFloat(-0.5f, 0.5f);
  const DenseF64 expected = testutil::MatmulF64(testutil::ToF64(a.ToDense()), testutil::ViewToF64(b.view()));
  for (const Isa isa : SupportedIsas()) {
    LimitIsa(isa);
    const std::string where = Describe(c);
    for (int variant = 0; variant < 4; ++variant) {  // plain, bias, relu, bias then relu
      const bool with_bias = variant % 2 == 1, relu = variant >= 2;
      DenseF64 want = expected;
      for (int64_t i = 0; i < c.m; ++i) {
        for (int64_t j = 0; j < c.n; ++j) {
          double& e = want.data[i * c.n + j];
          if (with_bias) e += bias[i];
          if (relu) e = std::max(e, 0.0);
        }
      }
      PaddedDense out = NanInside(c0);
      SpmmBsr(a.view(), b.view(), out.view(), with_bias ? bias.data() : nullptr, relu);
      ExpectOutput(out, c0, want, where + " bias " + std::to_string(with_bias) + " relu " + std::to_string(relu));
    }
    PaddedDense acc = c0;
    SpmmBsrAccumulate(a.view(), b.view(), acc.view());
    ExpectOutput(acc, c0, Plus(expected, testutil::ViewToF64(c0.view())), where + " accumulate");
  }
  PaddedDense naive = NanInside(c0);
  SpmmBsrNaive(a.view(), b.view(), naive.view());
  ExpectOutput(naive, c0, expected, std::string(c.why) + " naive");
}

TEST_P(BsrKernelTest, TransposedMatchesDenseDoubleReferenceOnEveryIsa) {
  const Case& c = GetParam();
  Rng rng(8);
  const BsrMatrix a = RandomBsr(c, rng, std::numeric_limits<float>::quiet_NaN());
  const PaddedDense b = testutil::RandomPadded(c.m, c.n, c.pad, rng);
  const PaddedDense c0 = testutil::RandomPadded(c.k, c.n, c.pad, rng);
  const DenseF64 expected =
      testutil::MatmulF64(testutil::ToF64(a.ToDense()), testutil::ViewToF64(b.view()), /*transpose_a=*/true);
  for (const Isa isa : SupportedIsas()) {
    LimitIsa(isa);
    const std::string where = Describe(c);
    PaddedDense out = NanInside(c0);
    SpmmBsrTransposed(a.view(/*with_transpose=*/true), b.view(), out.view());
    ExpectOutput(out, c0, expected, where);
    PaddedDense acc = c0;
    SpmmBsrTransposedAccumulate(a.view(/*with_transpose=*/true), b.view(), acc.view());
    ExpectOutput(acc, c0, Plus(expected, testutil::ViewToF64(c0.view())), where + " accumulate");
  }
  PaddedDense naive = NanInside(c0);
  SpmmBsrTransposedNaive(a.view(), b.view(), naive.view());
  ExpectOutput(naive, c0, expected, std::string(c.why) + " naive");
}

// Dense oracle of SDDMM: G Xᵀ sampled at every entry of every stored block, padding entries 0.
std::vector<double> SddmmOracle(const Case& c, const BsrMatrix& a, const PaddedDense& g, const PaddedDense& x) {
  const DenseF64 full =
      testutil::MatmulF64(testutil::ViewToF64(g.view()), testutil::ViewToF64(x.view()), false, /*transpose_b=*/true);
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
  return expected;
}

TEST_P(BsrKernelTest, SddmmMatchesDenseDoubleReferenceOnEveryIsa) {
  const Case& c = GetParam();
  Rng rng(9);
  const BsrMatrix a = RandomBsr(c, rng, 0.0f);
  const PaddedDense g = testutil::RandomPadded(c.m, c.n, c.pad, rng);
  const PaddedDense x = testutil::RandomPadded(c.k, c.n, c.pad, rng);
  const std::vector<double> expected = SddmmOracle(c, a, g, x);
  // Accumulate onto 1.0 everywhere: stored entries gain the product, padding stays 1.0 (untouched).
  std::vector<double> expected_acc = expected;
  for (double& e : expected_acc) e += 1.0;
  for (const Isa isa : SupportedIsas()) {
    LimitIsa(isa);
    const std::string where = Describe(c);
    std::vector<float> out(a.values().size(), std::numeric_limits<float>::quiet_NaN());
    SddmmBsr(a.view(), g.view(), x.view(), out.data());
    EXPECT_TRUE(testutil::AllClose(out, expected, 1e-4)) << where;
    std::vector<float> acc(a.values().size(), 1.0f);
    SddmmBsrAccumulate(a.view(), g.view(), x.view(), acc.data());
    EXPECT_TRUE(testutil::AllClose(acc, expected_acc, 1e-4)) << where << " accumulate";
  }
  std::vector<float> naive(a.values().size(), std::numeric_limits<float>::quiet_NaN());
  SddmmBsrNaive(a.view(), g.view(), x.view(), naive.data());
  EXPECT_TRUE(testutil::AllClose(naive, expected, 1e-4)) << c.why << " naive";
}

// A random pattern (padding entries 0) and dense operands for all three products: b [k, n] (B of SpmmBsr, X of
// SDDMM) and bt [m, n] (B of the transposed product, G of SDDMM).
struct Operands {
  BsrMatrix a;
  Tensor b, bt;
};
Operands RandomOperands(const Case& c, Rng& rng) {
  BsrMatrix a = RandomBsr(c, rng, 0.0f);
  Tensor b = testutil::RandomDense({c.k, c.n}, rng);
  return {std::move(a), std::move(b), testutil::RandomDense({c.m, c.n}, rng)};
}

// bsr_spmm.h promises the vector paths equal the portable one within rounding only (FMA, other partial sums): they
// are compared with a tolerance, never bitwise.
TEST_P(BsrKernelTest, IsaPathsAgreeWithPortableWithinRounding) {
  const Case& c = GetParam();
  Rng rng(11);
  const Operands o = RandomOperands(c, rng);
  auto run = [&](Tensor& y, Tensor& t, std::vector<float>& s) {
    SpmmBsr(o.a.view(), o.b.view(), y.view());
    SpmmBsrTransposed(o.a.view(true), o.bt.view(), t.view());
    SddmmBsr(o.a.view(), o.bt.view(), o.b.view(), s.data());
  };
  Tensor y0({c.m, c.n}), t0({c.k, c.n});
  std::vector<float> s0(o.a.values().size());
  LimitIsa(Isa::kPortable);
  run(y0, t0, s0);
  for (const Isa isa : SupportedIsas()) {
    LimitIsa(isa);
    Tensor y({c.m, c.n}), t({c.k, c.n});
    std::vector<float> s(o.a.values().size());
    run(y, t, s);
    EXPECT_TRUE(testutil::AllClose(y, testutil::ToF64(y0), 1e-4)) << Describe(c) << " SpmmBsr";
    EXPECT_TRUE(testutil::AllClose(t, testutil::ToF64(t0), 1e-4)) << Describe(c) << " SpmmBsrTransposed";
    EXPECT_TRUE(testutil::AllClose(s, std::vector<double>(s0.begin(), s0.end()), 1e-4)) << Describe(c) << " Sddmm";
  }
}

TEST_P(BsrKernelTest, OneAndTwoThreadsAreBitIdenticalOnEveryIsa) {
  const Case& c = GetParam();
  Rng rng(10);
  const Operands o = RandomOperands(c, rng);
  const Tensor c0 = testutil::RandomDense({c.m, c.n}, rng);
  std::vector<float> bias(c.m);
  for (float& v : bias) v = rng.UniformFloat(-0.5f, 0.5f);
  for (const Isa isa : SupportedIsas()) {
    LimitIsa(isa);
    Tensor y[2] = {Tensor({c.m, c.n}), Tensor({c.m, c.n})}, ya[2] = {c0, c0};  // ya: accumulated onto c0
    Tensor t[2] = {Tensor({c.k, c.n}), Tensor({c.k, c.n})};
    std::vector<float> s[2] = {std::vector<float>(o.a.values().size()), std::vector<float>(o.a.values().size(), 1.0f)};
    std::vector<float> sa[2] = {s[1], s[1]};
    for (int threads = 1; threads <= 2; ++threads) {
      SetNumThreads(threads);
      SpmmBsr(o.a.view(), o.b.view(), y[threads - 1].view(), bias.data(), /*relu=*/true);
      SpmmBsrAccumulate(o.a.view(), o.b.view(), ya[threads - 1].view());
      SpmmBsrTransposed(o.a.view(true), o.bt.view(), t[threads - 1].view());
      SddmmBsr(o.a.view(), o.bt.view(), o.b.view(), s[threads - 1].data());
      SddmmBsrAccumulate(o.a.view(), o.bt.view(), o.b.view(), sa[threads - 1].data());
    }
    const std::string where = Describe(c);
    EXPECT_TRUE(testutil::BitIdentical(y[0].data(), y[1].data(), y[0].size())) << where << " SpmmBsr bias+relu";
    EXPECT_TRUE(testutil::BitIdentical(ya[0].data(), ya[1].data(), ya[0].size())) << where << " accumulate";
    EXPECT_TRUE(testutil::BitIdentical(t[0].data(), t[1].data(), t[0].size())) << where << " SpmmBsrTransposed";
    EXPECT_TRUE(testutil::BitIdentical(s[0].data(), s[1].data(), static_cast<int64_t>(s[0].size())))
        << where << " Sddmm";
    EXPECT_TRUE(testutil::BitIdentical(sa[0].data(), sa[1].data(), static_cast<int64_t>(sa[0].size())))
        << where << " SddmmAccumulate";
  }
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
