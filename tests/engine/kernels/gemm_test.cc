// Tests for the OpenBLAS Gemm wrapper: every transpose combination, alpha/beta, padded strides and k = 0 against
// the dense double oracle, also for products cut into several row or column blocks; the block plan by hand; results
// bitwise identical for 1, 2 and 3 threads, under every OpenBLAS core this CPU can run; shape errors are reported.
#include "engine/kernels/gemm.h"

#include <cstdlib>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "engine/base/check.h"
#include "engine/base/flop_counter.h"
#include "engine/base/parallel.h"
#include "tests/engine/kernels/kernel_cases.h"
#include "tests/testutil/testutil.h"

namespace {

struct GemmCase {
  int64_t m, k, n;
  bool transpose_a, transpose_b;
  float alpha, beta;
  int64_t pad;
  const char* why;
};

void PrintTo(const GemmCase& c, std::ostream* os) {
  *os << c.m << "x" << c.k << "x" << c.n << " ta=" << c.transpose_a << " tb=" << c.transpose_b << " (" << c.why
      << ")";
}

const GemmCase kCases[] = {
    {1, 1, 1, false, false, 1.0f, 0.0f, 0, "smallest"},
    {17, 5, 33, false, false, 1.0f, 0.0f, 3, "odd sizes, padded rows"},
    {17, 5, 33, true, false, 1.0f, 0.0f, 0, "transposed A"},
    {17, 5, 33, false, true, 1.0f, 0.0f, 2, "transposed B (RigL's dense dY Xᵀ tile)"},
    {17, 5, 33, true, true, 1.0f, 0.0f, 0, "both transposed"},
    {9, 7, 11, false, false, 0.5f, 2.0f, 1, "alpha and beta scale the product and the old C"},
    {6, 0, 4, false, false, 1.0f, 0.5f, 0, "k = 0: C = beta * C"},
    {300, 784, 128, false, false, 1.0f, 0.0f, 0, "MLP 784-300-100-10 layer 1, batch 128 (5 row blocks)"},
    {300, 128, 784, false, true, 1.0f, 1.0f, 0, "its weight gradient dW += dY Xᵀ (row blocks, beta = 1)"},
    {520, 300, 40, true, false, 0.5f, 0.0f, 1, "2 row blocks of 272 and 248 rows, transposed A, padded"},
    {40, 200, 2000, false, false, 1.0f, 0.0f, 0, "few rows: 7 column blocks, the last one short"},
    {40, 200, 2000, true, true, 1.0f, 2.0f, 3, "the same with both operands transposed, beta and padding"},
};

class GemmTest : public ::testing::TestWithParam<GemmCase> {};

TEST_P(GemmTest, MatchesDenseDoubleReference) {
  const GemmCase& c = GetParam();
  testutil::Rng rng(5);
  // Stored shapes: op(A) is m x k, op(B) is k x n.
  testutil::PaddedDense a = c.transpose_a ? testutil::RandomPadded(c.k, c.m, c.pad, rng)
                                          : testutil::RandomPadded(c.m, c.k, c.pad, rng);
  testutil::PaddedDense b = c.transpose_b ? testutil::RandomPadded(c.n, c.k, c.pad, rng)
                                          : testutil::RandomPadded(c.k, c.n, c.pad, rng);
  testutil::PaddedDense out = testutil::RandomPadded(c.m, c.n, c.pad, rng);
  testutil::DenseF64 want = testutil::MatmulF64(testutil::ViewToF64(a.view()), testutil::ViewToF64(b.view()),
                                                c.transpose_a, c.transpose_b);
  const testutil::DenseF64 old_c = testutil::ViewToF64(out.view());
  for (size_t e = 0; e < want.data.size(); ++e) want.data[e] = c.alpha * want.data[e] + c.beta * old_c.data[e];
  const testutil::PaddedDense before = out;
  const uint64_t flops_before = engine::FlopCounter::Get();
  engine::kernels::Gemm(c.transpose_a, c.transpose_b, c.alpha, a.view(), b.view(), c.beta, out.view());
  EXPECT_EQ(engine::FlopCounter::Get() - flops_before, static_cast<uint64_t>(2 * c.m * c.n * c.k));
  EXPECT_TRUE(testutil::AllClose(testutil::ViewToTensor(out.view()), want, testutil::Tolerance(c.k)));
  EXPECT_TRUE(testutil::PaddingUntouched(before, out));
}

INSTANTIATE_TEST_SUITE_P(Shapes, GemmTest, ::testing::ValuesIn(kCases));

TEST(GemmErrors, MismatchedInnerDimensionIsReported) {
  engine::Tensor a({4, 3}), b({5, 2}), c({4, 2});
  try {
    engine::kernels::Gemm(false, false, 1.0f, a.view(), b.view(), 0.0f, c.view());
    FAIL() << "expected engine::Error";
  } catch (const engine::Error& e) {
    EXPECT_NE(std::strstr(e.what(), "inner dimensions"), nullptr) << e.what();
  }
}

TEST(GemmErrors, WrongOutputShapeIsReported) {
  engine::Tensor a({4, 3}), b({3, 2}), c({4, 3});
  EXPECT_THROW(engine::kernels::Gemm(false, false, 1.0f, a.view(), b.view(), 0.0f, c.view()), engine::Error);
}

// The plan by hand: flops / 4 MFLOP blocks (1 to 16); rows when m >= 128 (at least 64 rows, a multiple of 16),
// columns otherwise: at least 256 when k < 1024; with k >= 1024, n / 64 near-equal blocks (at most the count wanted),
// each rounded up to a multiple of 16.
TEST(PlanGemmBlocks, HandComputedShapes) {
  struct Row {
    int64_t m, n, k, rows, cols;
    const char* why;
  } rows[] = {
      {4096, 128, 4096, 256, 128, "4.3 GFLOP: 16 blocks of 4096 / 16 = 256 rows"},
      {300, 128, 784, 64, 128, "60 MFLOP: 14 blocks wanted, 300 / 14 -> 32, raised to the 64-row minimum"},
      {520, 40, 300, 272, 40, "12.5 MFLOP: 2 blocks, 260 rounded up to 272"},
      {40, 2000, 200, 40, 288, "32 MFLOP, 40 rows: 7 column blocks, 2000 / 7 -> 286 -> 288"},
      {6, 3136, 25, 6, 3136, "0.94 MFLOP: one block (LeNet-5 conv1 on 4 images)"},
      {16, 100, 150, 16, 100, "tiny: one block"},
      {16, 4096, 4096, 16, 256, "0.5 GFLOP but 16 rows: 16 column blocks of 256"},
      {32, 288, 7168, 32, 80, "a conv weight gradient, k >= 1024: 288 / 64 -> 4 blocks of 72 -> 80 (not 256 + 32)"},
      {64, 300, 1024, 64, 80, "k = 1024 is long: 300 / 64 -> 4 blocks of 75 -> 80"},
      {64, 300, 1023, 64, 256, "k = 1023 is not: 9 blocks wanted, 300 / 9 -> 34 -> 48, raised to 256"},
  };
  for (const Row& r : rows) {
    const engine::kernels::GemmBlocks b = engine::kernels::PlanGemmBlocks(r.m, r.n, r.k);
    EXPECT_EQ(b.rows, r.rows) << r.why;
    EXPECT_EQ(b.cols, r.cols) << r.why;
  }
}

// Every shape here is cut into several blocks (but the first); 1, 2 and 3 threads must agree bit for bit.
TEST(GemmDeterminism, BitIdenticalAcrossThreadCounts) {
  testutil::ExpectForcedBlasCore();
  struct Shape {
    int64_t m, k, n;
    bool transpose_a, transpose_b;
    const char* why;
  } shapes[] = {
      {6, 25, 3136, false, false, "LeNet-5 conv1 forward on 4 images (one block)"},
      {16, 150, 12800, false, false, "LeNet-5 conv2 forward, 128 images: column blocks"},
      {150, 16, 12800, true, false, "its im2col gradient Wᵀ dY"},
      {16, 12800, 150, false, true, "its weight gradient dY colsᵀ"},
      {300, 784, 128, false, false, "MLP layer 1 forward"},
      {784, 300, 128, true, false, "MLP layer 1 input gradient Wᵀ dY"},
      {300, 128, 784, false, true, "MLP layer 1 weight gradient"},
      {1024, 1024, 128, false, false, "a 1024-wide layer, 8 row blocks"},
  };
  for (const Shape& s : shapes) {
    testutil::Rng rng(9);
    testutil::PaddedDense a = s.transpose_a ? testutil::RandomPadded(s.k, s.m, 0, rng)
                                            : testutil::RandomPadded(s.m, s.k, 0, rng);
    testutil::PaddedDense b = s.transpose_b ? testutil::RandomPadded(s.n, s.k, 0, rng)
                                            : testutil::RandomPadded(s.k, s.n, 0, rng);
    const testutil::PaddedDense c0 = testutil::RandomPadded(s.m, s.n, 0, rng);
    std::vector<testutil::PaddedDense> c(3, c0);
    for (int t = 0; t < 3; ++t) {
      engine::SetNumThreads(t + 1);
      engine::kernels::Gemm(s.transpose_a, s.transpose_b, 1.0f, a.view(), b.view(), 1.0f, c[t].view());
    }
    engine::SetNumThreads(2);
    for (int t = 1; t < 3; ++t) {
      EXPECT_TRUE(testutil::BitIdentical(c[0].view().data, c[t].view().data, s.m * s.n))
          << s.why << ": 1 vs " << t + 1 << " threads";
    }
  }
}

TEST(GemmDeterminism, HoldsUnderEveryOpenBlasCore) {
  if (std::getenv("ENGINE_OPENBLAS_CORE") != nullptr) GTEST_SKIP() << "already a child run";
  testutil::ExpectPassesUnderEveryBlasCore("GemmDeterminism.BitIdenticalAcrossThreadCounts:GemmTest.*");
}

}  // namespace
