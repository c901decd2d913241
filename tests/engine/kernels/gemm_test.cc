// Tests for the OpenBLAS Gemm wrapper: every transpose combination, alpha/beta, padded strides and k = 0 against
// the dense double oracle; shape errors are reported; the chosen OpenBLAS core is named.
#include "engine/kernels/gemm.h"

#include <cstring>

#include <gtest/gtest.h>

#include "engine/base/check.h"
#include "engine/base/flop_counter.h"
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
    {300, 784, 128, false, false, 1.0f, 0.0f, 0, "MLP 784-300-100-10 layer 1, batch 128"},
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

TEST(OpenBlasCoreName, IsNamed) {
  const char* name = engine::kernels::OpenBlasCoreName();
  ASSERT_NE(name, nullptr);
  EXPECT_GT(std::strlen(name), 0u);
}

}  // namespace
