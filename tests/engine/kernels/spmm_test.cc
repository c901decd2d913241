// Tests for SpmmCsr / SpmmCsrAccumulate / SpmmCsrNaive against a dense double-precision oracle (MatmulF64 on the
// densified operand: no shared index code), on both ISA paths, with the bias+ReLU epilogue, padded strides,
// thread-count determinism and the FLOP count.
#include "engine/kernels/spmm.h"

#include <algorithm>
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

// Operands and the oracle of one case, built once per case (the 4096 x 4096 ones take seconds).
struct Fixture {
  engine::CsrMatrix a;
  testutil::PaddedDense b, c0;  // c0: garbage to overwrite, or the addend for Accumulate
  engine::Tensor bias;
  DenseF64 expected;  // A * B in double
};

const Fixture& FixtureFor(const CsrCase& c) {
  static std::map<std::string, Fixture>* cache = new std::map<std::string, Fixture>();
  auto it = cache->find(c.why);
  if (it != cache->end()) return it->second;
  testutil::Rng rng(/*seed=*/7);
  Fixture f;
  f.a = testutil::MakeCsr(c, rng);
  f.b = testutil::RandomPadded(c.k, c.n, c.pad, rng);
  f.c0 = testutil::RandomPadded(c.m, c.n, c.pad, rng);
  f.bias = testutil::RandomDense({c.m}, rng);
  f.expected = testutil::MatmulF64(testutil::ToF64(f.a.ToDense()), testutil::ViewToF64(f.b.view()));
  return cache->emplace(c.why, std::move(f)).first->second;
}

class SpmmCsrTest : public ::testing::TestWithParam<CsrCase> {
 protected:
  void SetUp() override {
    const Fixture& f = FixtureFor(GetParam());
    a_ = f.a.view();
    b_ = f.b;
    c0_ = f.c0;
    bias_ = &f.bias;
    expected_ = &f.expected;
    atol_ = testutil::Tolerance(GetParam().k);
  }
  void TearDown() override {
    engine::ForcePortableIsa(false);
    engine::SetNumThreads(2);
  }

  engine::CsrView a_;
  testutil::PaddedDense b_, c0_;
  const engine::Tensor* bias_ = nullptr;
  const DenseF64* expected_ = nullptr;
  double atol_ = 0;
};

TEST_P(SpmmCsrTest, OverwritesWithProductOnBothIsaPaths) {
  for (engine::Isa isa : engine::SupportedIsas()) {
    engine::LimitIsa(isa);
    testutil::PaddedDense out = c0_;
    engine::kernels::SpmmCsr(a_, b_.view(), out.view());
    EXPECT_TRUE(testutil::AllClose(testutil::ViewToTensor(out.view()), *expected_, atol_))
        << "isa " << engine::IsaName(engine::ActiveIsa());
    EXPECT_TRUE(testutil::PaddingUntouched(c0_, out));
  }
}

TEST_P(SpmmCsrTest, IsaPathsAgreeWithEachOther) {
  testutil::PaddedDense portable = c0_, best = c0_;
  engine::ForcePortableIsa(true);
  engine::kernels::SpmmCsr(a_, b_.view(), portable.view());
  engine::ForcePortableIsa(false);
  engine::kernels::SpmmCsr(a_, b_.view(), best.view());
  EXPECT_TRUE(testutil::AllClose(testutil::ViewToTensor(best.view()), testutil::ViewToF64(portable.view()), atol_))
      << "active isa " << engine::IsaName(engine::ActiveIsa());
}

TEST_P(SpmmCsrTest, BiasAndReluEpilogue) {
  const CsrCase& c = GetParam();
  for (engine::Isa isa : engine::SupportedIsas()) {
    engine::LimitIsa(isa);
    for (int variant = 0; variant < 3; ++variant) {
      const bool with_bias = variant != 1, relu = variant != 0;
      DenseF64 want = *expected_;
      for (int64_t i = 0; i < c.m; ++i) {
        for (int64_t j = 0; j < c.n; ++j) {
          double& v = want.data[i * c.n + j];
          if (with_bias) v += (*bias_)[i];
          if (relu) v = std::max(v, 0.0);
        }
      }
      testutil::PaddedDense out = c0_;
      engine::kernels::SpmmCsr(a_, b_.view(), out.view(), with_bias ? bias_->data() : nullptr, relu);
      EXPECT_TRUE(testutil::AllClose(testutil::ViewToTensor(out.view()), want, atol_))
          << "bias " << with_bias << " relu " << relu << " isa " << engine::IsaName(engine::ActiveIsa());
      EXPECT_TRUE(testutil::PaddingUntouched(c0_, out));
    }
  }
}

TEST_P(SpmmCsrTest, AccumulateAddsToExistingOutput) {
  DenseF64 want = testutil::ViewToF64(c0_.view());
  for (size_t e = 0; e < want.data.size(); ++e) want.data[e] += expected_->data[e];
  for (engine::Isa isa : engine::SupportedIsas()) {
    engine::LimitIsa(isa);
    testutil::PaddedDense out = c0_;
    engine::kernels::SpmmCsrAccumulate(a_, b_.view(), out.view());
    EXPECT_TRUE(testutil::AllClose(testutil::ViewToTensor(out.view()), want, atol_))
        << "isa " << engine::IsaName(engine::ActiveIsa());
    EXPECT_TRUE(testutil::PaddingUntouched(c0_, out));
  }
}

TEST_P(SpmmCsrTest, NaiveTwinMatchesOracle) {
  const CsrCase& c = GetParam();
  DenseF64 want = *expected_;
  for (int64_t i = 0; i < c.m; ++i) {
    for (int64_t j = 0; j < c.n; ++j) want.data[i * c.n + j] = std::max(want.data[i * c.n + j] + (*bias_)[i], 0.0);
  }
  testutil::PaddedDense out = c0_;
  engine::kernels::SpmmCsrNaive(a_, b_.view(), out.view(), bias_->data(), /*relu=*/true);
  EXPECT_TRUE(testutil::AllClose(testutil::ViewToTensor(out.view()), want, atol_));
  EXPECT_TRUE(testutil::PaddingUntouched(c0_, out));
}

TEST_P(SpmmCsrTest, BitIdenticalForOneAndTwoThreads) {
  for (engine::Isa isa : engine::SupportedIsas()) {
    engine::LimitIsa(isa);
    testutil::PaddedDense one = c0_, two = c0_;
    engine::SetNumThreads(1);
    engine::kernels::SpmmCsr(a_, b_.view(), one.view(), bias_->data(), true);
    engine::SetNumThreads(2);
    engine::kernels::SpmmCsr(a_, b_.view(), two.view(), bias_->data(), true);
    EXPECT_TRUE(testutil::BitIdentical(one.storage.data(), two.storage.data(), one.storage.size()))
        << "isa " << engine::IsaName(engine::ActiveIsa());
  }
}

TEST_P(SpmmCsrTest, CountsFlopsOncePerCall) {
  const CsrCase& c = GetParam();
  testutil::PaddedDense out = c0_;
  const uint64_t before = engine::FlopCounter::Get();
  engine::kernels::SpmmCsr(a_, b_.view(), out.view(), bias_->data(), /*relu=*/true);
  EXPECT_EQ(engine::FlopCounter::Get() - before, static_cast<uint64_t>(2 * a_.nnz * c.n + 2 * c.m * c.n));
}

INSTANTIATE_TEST_SUITE_P(Shapes, SpmmCsrTest, ::testing::ValuesIn(testutil::CsrKernelCases()));

}  // namespace
