// Tests for SpmmCsrTransposed / ...Accumulate / ...Naive: C[k, n] = Aᵀ B against the dense double oracle
// (MatmulF64 with transpose_a on the densified A), on both ISA paths, with padded strides, thread-count
// determinism and the FLOP count.
#include "engine/kernels/spmm_transposed.h"

#include <map>
#include <string>

#include <gtest/gtest.h>

#include "engine/base/cpu.h"
#include "engine/base/flop_counter.h"
#include "engine/base/parallel.h"
#include "tests/engine/kernels/kernel_cases.h"
#include "tests/testutil/testutil.h"

namespace {

using testutil::CsrCase;
using testutil::DenseF64;

// Operands and oracle of one case, built once (A [m, k]; B [m, n]; C [k, n]).
struct Fixture {
  engine::CsrMatrix a;
  testutil::PaddedDense b, c0;
  DenseF64 expected;  // Aᵀ B in double
};

const Fixture& FixtureFor(const CsrCase& c) {
  static std::map<std::string, Fixture>* cache = new std::map<std::string, Fixture>();
  auto it = cache->find(c.why);
  if (it != cache->end()) return it->second;
  testutil::Rng rng(/*seed=*/11);
  Fixture f;
  f.a = testutil::MakeCsr(c, rng);
  f.a.EnsureTransposeIndex();
  f.b = testutil::RandomPadded(c.m, c.n, c.pad, rng);
  f.c0 = testutil::RandomPadded(c.k, c.n, c.pad, rng);
  f.expected = testutil::MatmulF64(testutil::ToF64(f.a.ToDense()), testutil::ViewToF64(f.b.view()),
                                   /*transpose_a=*/true);
  return cache->emplace(c.why, std::move(f)).first->second;
}

class SpmmCsrTransposedTest : public ::testing::TestWithParam<CsrCase> {
 protected:
  void SetUp() override {
    const Fixture& f = FixtureFor(GetParam());
    a_ = f.a.view(/*with_transpose=*/true);
    b_ = f.b;
    c0_ = f.c0;
    expected_ = &f.expected;
    atol_ = testutil::Tolerance(GetParam().m);
  }
  void TearDown() override {
    engine::ForcePortableIsa(false);
    engine::SetNumThreads(2);
  }

  engine::CsrView a_;
  testutil::PaddedDense b_, c0_;
  const DenseF64* expected_ = nullptr;
  double atol_ = 0;
};

TEST_P(SpmmCsrTransposedTest, OverwritesWithProductOnBothIsaPaths) {
  for (engine::Isa isa : engine::SupportedIsas()) {
    engine::LimitIsa(isa);
    testutil::PaddedDense out = c0_;
    engine::kernels::SpmmCsrTransposed(a_, b_.view(), out.view());
    EXPECT_TRUE(testutil::AllClose(testutil::ViewToTensor(out.view()), *expected_, atol_))
        << "isa " << engine::IsaName(engine::ActiveIsa());
    EXPECT_TRUE(testutil::PaddingUntouched(c0_, out));
  }
}

// Without the transposed index the kernel falls back to a row-ordered scatter: same contract, both ISA paths.
TEST_P(SpmmCsrTransposedTest, ScatterFallbackWithoutIndexMatchesOracle) {
  const engine::CsrView no_index = FixtureFor(GetParam()).a.view(/*with_transpose=*/false);
  ASSERT_EQ(no_index.t_positions, nullptr);
  for (engine::Isa isa : engine::SupportedIsas()) {
    engine::LimitIsa(isa);
    testutil::PaddedDense out = c0_;
    engine::kernels::SpmmCsrTransposed(no_index, b_.view(), out.view());
    EXPECT_TRUE(testutil::AllClose(testutil::ViewToTensor(out.view()), *expected_, atol_))
        << "isa " << engine::IsaName(engine::ActiveIsa());
    EXPECT_TRUE(testutil::PaddingUntouched(c0_, out));
    testutil::PaddedDense acc = c0_;
    engine::kernels::SpmmCsrTransposedAccumulate(no_index, b_.view(), acc.view());
    DenseF64 want = testutil::ViewToF64(c0_.view());
    for (size_t e = 0; e < want.data.size(); ++e) want.data[e] += expected_->data[e];
    EXPECT_TRUE(testutil::AllClose(testutil::ViewToTensor(acc.view()), want, atol_));
  }
}

TEST_P(SpmmCsrTransposedTest, IsaPathsAgreeWithEachOther) {
  testutil::PaddedDense portable = c0_, best = c0_;
  engine::ForcePortableIsa(true);
  engine::kernels::SpmmCsrTransposed(a_, b_.view(), portable.view());
  engine::ForcePortableIsa(false);
  engine::kernels::SpmmCsrTransposed(a_, b_.view(), best.view());
  EXPECT_TRUE(testutil::AllClose(testutil::ViewToTensor(best.view()), testutil::ViewToF64(portable.view()), atol_));
}

TEST_P(SpmmCsrTransposedTest, AccumulateAddsToExistingOutput) {
  DenseF64 want = testutil::ViewToF64(c0_.view());
  for (size_t e = 0; e < want.data.size(); ++e) want.data[e] += expected_->data[e];
  for (engine::Isa isa : engine::SupportedIsas()) {
    engine::LimitIsa(isa);
    testutil::PaddedDense out = c0_;
    engine::kernels::SpmmCsrTransposedAccumulate(a_, b_.view(), out.view());
    EXPECT_TRUE(testutil::AllClose(testutil::ViewToTensor(out.view()), want, atol_))
        << "isa " << engine::IsaName(engine::ActiveIsa());
    EXPECT_TRUE(testutil::PaddingUntouched(c0_, out));
  }
}

TEST_P(SpmmCsrTransposedTest, NaiveTwinMatchesOracle) {
  testutil::PaddedDense out = c0_;
  engine::kernels::SpmmCsrTransposedNaive(a_, b_.view(), out.view());
  EXPECT_TRUE(testutil::AllClose(testutil::ViewToTensor(out.view()), *expected_, atol_));
  EXPECT_TRUE(testutil::PaddingUntouched(c0_, out));
}

TEST_P(SpmmCsrTransposedTest, BitIdenticalForOneAndTwoThreads) {
  for (engine::Isa isa : engine::SupportedIsas()) {
    engine::LimitIsa(isa);
    testutil::PaddedDense one = c0_, two = c0_;
    engine::SetNumThreads(1);
    engine::kernels::SpmmCsrTransposed(a_, b_.view(), one.view());
    engine::SetNumThreads(2);
    engine::kernels::SpmmCsrTransposed(a_, b_.view(), two.view());
    EXPECT_TRUE(testutil::BitIdentical(one.storage.data(), two.storage.data(), one.storage.size()))
        << "isa " << engine::IsaName(engine::ActiveIsa());
  }
}

TEST_P(SpmmCsrTransposedTest, CountsFlopsOncePerCall) {
  testutil::PaddedDense out = c0_;
  const uint64_t before = engine::FlopCounter::Get();
  engine::kernels::SpmmCsrTransposed(a_, b_.view(), out.view());
  EXPECT_EQ(engine::FlopCounter::Get() - before, static_cast<uint64_t>(2 * a_.nnz * GetParam().n));
}

INSTANTIATE_TEST_SUITE_P(Shapes, SpmmCsrTransposedTest, ::testing::ValuesIn(testutil::CsrKernelCases()));

}  // namespace
