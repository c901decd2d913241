// Tests for the ISA dispatch (engine/base/cpu): the supported list, the cap, the ENGINE_ISA variable (in a child
// process started with it), and a loud skip for every path this CPU cannot run, so a machine without AVX-512 (or
// AVX2) says which kernel paths went untested instead of passing silently.
#include "engine/base/cpu.h"

#include <algorithm>
#include <cstdlib>

#include <gtest/gtest.h>

#include "engine/kernels/blas_core.h"
#include "tests/testutil/testutil.h"

namespace {

using engine::Isa;

TEST(Isa, SupportedListIsOrderedFromPortableToBest) {
  const std::vector<Isa> isas = engine::SupportedIsas();
  ASSERT_FALSE(isas.empty());
  EXPECT_EQ(isas.front(), Isa::kPortable);
  EXPECT_EQ(isas.back(), engine::BestIsa());
  EXPECT_TRUE(std::is_sorted(isas.begin(), isas.end()));
  EXPECT_EQ(engine::CpuHasAvx512(), engine::BestIsa() == Isa::kAvx512);
  if (engine::CpuHasAvx512()) {
    EXPECT_TRUE(engine::CpuHasAvx2()) << "every AVX-512 CPU this engine knows has AVX2";
  }
  if (engine::CpuHasAvx2()) {
    EXPECT_TRUE(engine::CpuHasAvx());
  }
}

// The OpenBLAS family choice reads the same checks as the kernel dispatch (one cpuid source of truth).
TEST(Isa, BlasFamilyAgreesWithTheKernelChecks) {
  using engine::kernels::BlasFamily;
  const BlasFamily family = engine::kernels::CpuBlasFamily();
  EXPECT_EQ(family == BlasFamily::kAvx512, engine::CpuHasAvx512());
  EXPECT_EQ(family >= BlasFamily::kAvx2, engine::CpuHasAvx2());
  EXPECT_EQ(family >= BlasFamily::kAvx, engine::CpuHasAvx());
}

TEST(Isa, LimitCapsTheActivePath) {
  if (std::getenv("ENGINE_ISA") != nullptr) GTEST_SKIP() << "a child run";
  for (Isa cap : {Isa::kPortable, Isa::kAvx2, Isa::kAvx512}) {
    engine::LimitIsa(cap);
    EXPECT_EQ(engine::ActiveIsa(), std::min(cap, engine::BestIsa())) << engine::IsaName(cap);
  }
  engine::ForcePortableIsa(true);
  EXPECT_EQ(engine::ActiveIsa(), Isa::kPortable);
  engine::ForcePortableIsa(false);
  EXPECT_EQ(engine::ActiveIsa(), engine::BestIsa());
}

// Run in a child with ENGINE_ISA set by the test below.
TEST(Isa, EnvironmentCapSeenByChild) {
  const char* cap = std::getenv("ENGINE_ISA");
  if (cap == nullptr) GTEST_SKIP() << "only meaningful in the child runs of EnvironmentVariableCapsTheIsa";
  const Isa want = std::string(cap) == "portable" ? Isa::kPortable : std::min(Isa::kAvx2, engine::BestIsa());
  EXPECT_EQ(engine::ActiveIsa(), want) << "ENGINE_ISA=" << cap;
}

TEST(Isa, EnvironmentVariableCapsTheIsa) {
  if (std::getenv("ENGINE_ISA") != nullptr) GTEST_SKIP() << "a child run";
  for (const char* cap : {"portable", "avx2"}) {
    EXPECT_EQ(testutil::RunSelf("Isa.EnvironmentCapSeenByChild", {{"ENGINE_ISA", cap}}), 0) << cap;
  }
}

// One test per vector path: skipped, loudly, where the CPU lacks it (the kernel tests then ran without it).
TEST(IsaAvailability, Avx2KernelsAreTestedOnThisCpu) {
  if (!engine::CpuHasAvx2()) {
    GTEST_SKIP() << "this CPU (" << engine::kernels::DescribeCpu() << ") lacks AVX2+FMA: the AVX2 kernel paths "
                 << "were NOT tested here";
  }
  EXPECT_GE(engine::BestIsa(), Isa::kAvx2);
}

TEST(IsaAvailability, Avx512KernelsAreTestedOnThisCpu) {
  if (!engine::CpuHasAvx512()) {
    GTEST_SKIP() << "this CPU (" << engine::kernels::DescribeCpu() << ") lacks AVX-512: the AVX-512 kernel paths "
                 << "were NOT tested here";
  }
  EXPECT_EQ(engine::BestIsa(), Isa::kAvx512);
}

}  // namespace
