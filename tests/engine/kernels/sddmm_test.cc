// Tests for SddmmCsr / ...Accumulate / ...Naive: out[p] = <G[i, :], X[j, :]> at each stored (i, j), against the
// dense double oracle G Xᵀ masked by the pattern. Outputs are compared densified (CsrMatrix::ToDense of the pattern
// carrying the kernel's values), so the oracle shares no index code with the kernel.
#include "engine/kernels/sddmm.h"

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/base/cpu.h"
#include "engine/base/flop_counter.h"
#include "engine/base/parallel.h"
#include "tests/engine/kernels/kernel_cases.h"
#include "tests/testutil/testutil.h"

namespace {

using testutil::CsrCase;
using testutil::DenseF64;

// Operands and oracle of one case, built once (pattern [m, k]; G [m, n]; X [k, n]).
struct Fixture {
  engine::CsrMatrix pattern;
  testutil::PaddedDense g, x;
  std::vector<float> out0;  // garbage to overwrite, or the addend for Accumulate
  DenseF64 expected;        // (G Xᵀ) ⊙ mask(pattern) in double, m x k
};

// The pattern carrying `values` (nnz of them), densified: the kernel's output laid out as an m x k matrix.
engine::Tensor Densify(const engine::CsrMatrix& pattern, const std::vector<float>& values) {
  engine::CsrMatrix carrier = pattern;
  std::copy(values.begin(), values.end(), carrier.mutable_values().begin());
  return carrier.ToDense();
}

const Fixture& FixtureFor(const CsrCase& c) {
  static std::map<std::string, Fixture>* cache = new std::map<std::string, Fixture>();
  auto it = cache->find(c.why);
  if (it != cache->end()) return it->second;
  testutil::Rng rng(/*seed=*/13);
  Fixture f;
  f.pattern = testutil::MakeCsr(c, rng);
  f.g = testutil::RandomPadded(c.m, c.n, c.pad, rng);
  f.x = testutil::RandomPadded(c.k, c.n, c.pad, rng);
  f.out0.resize(f.pattern.nnz());
  for (float& v : f.out0) v = rng.UniformFloat(-1.0f, 1.0f);
  const DenseF64 full = testutil::MatmulF64(testutil::ViewToF64(f.g.view()), testutil::ViewToF64(f.x.view()),
                                            /*transpose_a=*/false, /*transpose_b=*/true);
  const engine::Tensor mask = Densify(f.pattern, std::vector<float>(f.pattern.nnz(), 1.0f));
  f.expected = full;
  for (size_t e = 0; e < f.expected.data.size(); ++e) f.expected.data[e] *= mask[e];
  return cache->emplace(c.why, std::move(f)).first->second;
}

class SddmmCsrTest : public ::testing::TestWithParam<CsrCase> {
 protected:
  void SetUp() override {
    f_ = &FixtureFor(GetParam());
    atol_ = testutil::Tolerance(GetParam().n);
  }
  void TearDown() override {
    engine::ForcePortableIsa(false);
    engine::SetNumThreads(2);
  }
  const Fixture* f_ = nullptr;
  double atol_ = 0;
};

TEST_P(SddmmCsrTest, OverwritesWithSampledProductOnBothIsaPaths) {
  for (engine::Isa isa : engine::SupportedIsas()) {
    engine::LimitIsa(isa);
    std::vector<float> out = f_->out0;
    engine::kernels::SddmmCsr(f_->pattern.view(), f_->g.view(), f_->x.view(), out.data());
    EXPECT_TRUE(testutil::AllClose(Densify(f_->pattern, out), f_->expected, atol_))
        << "isa " << engine::IsaName(engine::ActiveIsa());
  }
}

TEST_P(SddmmCsrTest, IsaPathsAgreeWithEachOther) {
  std::vector<float> portable = f_->out0, best = f_->out0;
  engine::ForcePortableIsa(true);
  engine::kernels::SddmmCsr(f_->pattern.view(), f_->g.view(), f_->x.view(), portable.data());
  engine::ForcePortableIsa(false);
  engine::kernels::SddmmCsr(f_->pattern.view(), f_->g.view(), f_->x.view(), best.data());
  EXPECT_TRUE(testutil::AllClose(best, std::vector<double>(portable.begin(), portable.end()), atol_));
}

TEST_P(SddmmCsrTest, AccumulateAddsToExistingValues) {
  DenseF64 want = testutil::ToF64(Densify(f_->pattern, f_->out0));
  for (size_t e = 0; e < want.data.size(); ++e) want.data[e] += f_->expected.data[e];
  for (engine::Isa isa : engine::SupportedIsas()) {
    engine::LimitIsa(isa);
    std::vector<float> out = f_->out0;
    engine::kernels::SddmmCsrAccumulate(f_->pattern.view(), f_->g.view(), f_->x.view(), out.data());
    EXPECT_TRUE(testutil::AllClose(Densify(f_->pattern, out), want, atol_))
        << "isa " << engine::IsaName(engine::ActiveIsa());
  }
}

TEST_P(SddmmCsrTest, NaiveTwinMatchesOracle) {
  std::vector<float> out = f_->out0;
  engine::kernels::SddmmCsrNaive(f_->pattern.view(), f_->g.view(), f_->x.view(), out.data());
  EXPECT_TRUE(testutil::AllClose(Densify(f_->pattern, out), f_->expected, atol_));
}

TEST_P(SddmmCsrTest, BitIdenticalForOneAndTwoThreads) {
  for (engine::Isa isa : engine::SupportedIsas()) {
    engine::LimitIsa(isa);
    std::vector<float> one = f_->out0, two = f_->out0;
    engine::SetNumThreads(1);
    engine::kernels::SddmmCsr(f_->pattern.view(), f_->g.view(), f_->x.view(), one.data());
    engine::SetNumThreads(2);
    engine::kernels::SddmmCsr(f_->pattern.view(), f_->g.view(), f_->x.view(), two.data());
    EXPECT_TRUE(testutil::BitIdentical(one.data(), two.data(), static_cast<int64_t>(one.size())))
        << "isa " << engine::IsaName(engine::ActiveIsa());
  }
}

TEST_P(SddmmCsrTest, CountsFlopsOncePerCall) {
  std::vector<float> out = f_->out0;
  const uint64_t before = engine::FlopCounter::Get();
  engine::kernels::SddmmCsr(f_->pattern.view(), f_->g.view(), f_->x.view(), out.data());
  EXPECT_EQ(engine::FlopCounter::Get() - before, static_cast<uint64_t>(2 * f_->pattern.nnz() * GetParam().n));
}

INSTANTIATE_TEST_SUITE_P(Shapes, SddmmCsrTest, ::testing::ValuesIn(testutil::CsrKernelCases()));

}  // namespace
