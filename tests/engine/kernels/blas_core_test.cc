// Tests for the OpenBLAS core policy (blas_core.h): the family of each core name and the load-time decision, by
// hand-written tables; then, for real, that this process runs the CPU's best family and that a child started with
// OpenBLAS's misdetection simulated (OPENBLAS_CORETYPE=Prescott, as Debian's 0.3.21 does on an Intel Xeon family 6
// model 207) or with a weaker pinned core (Haswell or Sandybridge, as some environments set) ends up on it too.
#include "engine/kernels/blas_core.h"

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "tests/testutil/testutil.h"

namespace {

using engine::kernels::BlasFamily;
using engine::kernels::DecideBlasCore;
using engine::kernels::FamilyOfCore;

TEST(FamilyOfCore, KnownNames) {
  EXPECT_EQ(FamilyOfCore("SkylakeX"), BlasFamily::kAvx512);
  EXPECT_EQ(FamilyOfCore("COOPERLAKE"), BlasFamily::kAvx512);  // case-insensitive, as OPENBLAS_CORETYPE is
  EXPECT_EQ(FamilyOfCore("Zen"), BlasFamily::kAvx2);
  EXPECT_EQ(FamilyOfCore("haswell"), BlasFamily::kAvx2);
  EXPECT_EQ(FamilyOfCore("Sandybridge"), BlasFamily::kAvx);
  EXPECT_EQ(FamilyOfCore("Excavator"), BlasFamily::kAvx);
  EXPECT_EQ(FamilyOfCore("Prescott"), BlasFamily::kSse);
  EXPECT_EQ(FamilyOfCore("Nehalem"), BlasFamily::kSse);
  EXPECT_EQ(FamilyOfCore("Skylake"), BlasFamily::kUnknown);  // not an OpenBLAS x86-64 core name
  EXPECT_EQ(FamilyOfCore(""), BlasFamily::kUnknown);
}

TEST(BestCoreFor, ByFamilyAndVendor) {
  EXPECT_EQ(engine::kernels::BestCoreFor(BlasFamily::kAvx512, false), "SkylakeX");
  EXPECT_EQ(engine::kernels::BestCoreFor(BlasFamily::kAvx512, true), "SkylakeX");
  EXPECT_EQ(engine::kernels::BestCoreFor(BlasFamily::kAvx2, true), "Zen");
  EXPECT_EQ(engine::kernels::BestCoreFor(BlasFamily::kAvx2, false), "Haswell");
  EXPECT_EQ(engine::kernels::BestCoreFor(BlasFamily::kAvx, false), "Sandybridge");
  EXPECT_EQ(engine::kernels::BestCoreFor(BlasFamily::kSse, false), "");
}

TEST(DecideBlasCore, Table) {
  struct Row {
    const char* current;
    BlasFamily cpu;
    bool amd;
    const char* policy;
    bool reexecuted;
    const char* want_reexec;  // "" = none
    bool want_warning;
    const char* why;
  } rows[] = {
      {"Prescott", BlasFamily::kAvx512, false, "", false, "SkylakeX", false, "the Intel Xeon misdetection"},
      {"Haswell", BlasFamily::kAvx512, true, "", false, "SkylakeX", false, "Zen 5 with OPENBLAS_CORETYPE=Haswell"},
      {"Cooperlake", BlasFamily::kAvx512, true, "", false, "", false, "Zen 5 as OpenBLAS finds it: already AVX-512"},
      {"SkylakeX", BlasFamily::kAvx512, false, "auto", false, "", false, "auto is the default"},
      {"Zen", BlasFamily::kAvx2, true, "", false, "", false, "Zen 3: Zen is its best"},
      {"Haswell", BlasFamily::kAvx2, true, "", false, "", false, "Haswell and Zen are one family: no restart"},
      {"Prescott", BlasFamily::kAvx2, true, "", false, "Zen", false, "misdetection simulated on an AVX2 AMD"},
      {"Sandybridge", BlasFamily::kAvx2, false, "", false, "Haswell", false, "AVX2 Intel pinned to AVX"},
      {"SkylakeX", BlasFamily::kAvx2, true, "", false, "Zen", false, "a pinned core this CPU cannot execute"},
      {"Prescott", BlasFamily::kAvx512, false, "", true, "", true, "still weak after restarting: no loop, a warning"},
      {"Prescott", BlasFamily::kAvx512, false, "keep", false, "", false, "keep: OpenBLAS's choice stays"},
      {"SkylakeX", BlasFamily::kAvx512, false, "Haswell", false, "Haswell", false, "a user forces a weaker core"},
      {"Haswell", BlasFamily::kAvx512, false, "haswell", false, "", false, "forced core already running"},
      {"Zen", BlasFamily::kAvx2, true, "SkylakeX", false, "", true, "forced core the CPU cannot run: refused"},
      {"Zen", BlasFamily::kAvx2, true, "Skylake", false, "", true, "not a core name: refused"},
      {"Prescott", BlasFamily::kSse, false, "", false, "", false, "an SSE-only CPU: nothing better to ask for"},
  };
  for (const Row& r : rows) {
    const engine::kernels::BlasCoreDecision d = DecideBlasCore(r.current, r.cpu, r.amd, r.policy, r.reexecuted);
    EXPECT_EQ(d.reexec_with, r.want_reexec) << r.why;
    EXPECT_EQ(!d.warning.empty(), r.want_warning) << r.why << ": warning '" << d.warning << "'";
  }
}

// The real thing: whatever OpenBLAS chose when this binary loaded, it now runs the CPU's best family (or the core
// ENGINE_OPENBLAS_CORE forces in a child below). Fails if the load-time check is missing or did not take effect.
TEST(BlasCoreInProcess, IsTheBestForThisCpu) {
  const char* forced = std::getenv("ENGINE_OPENBLAS_CORE");
  std::printf("%s\n%s\n", engine::kernels::DescribeCpu().c_str(), engine::kernels::DescribeBlasCore().c_str());
  if (forced != nullptr && FamilyOfCore(forced) != BlasFamily::kUnknown) {
    testutil::ExpectForcedBlasCore();
    return;
  }
  EXPECT_EQ(FamilyOfCore(engine::kernels::OpenBlasCoreName()), engine::kernels::CpuBlasFamily())
      << engine::kernels::DescribeBlasCore();
  EXPECT_FALSE(engine::kernels::BlasCoreBelowBest());
}

TEST(BlasCoreInProcess, ChildWithWeakCoresRestartsOnTheBest) {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr || std::getenv("ENGINE_OPENBLAS_CORE") != nullptr) {
    GTEST_SKIP() << "a child run";
  }
  for (const char* weak : {"Prescott", "Sandybridge", "Haswell"}) {
    EXPECT_EQ(testutil::RunSelf("BlasCoreInProcess.IsTheBestForThisCpu", {{"OPENBLAS_CORETYPE", weak}}), 0)
        << "OPENBLAS_CORETYPE=" << weak;
  }
}

TEST(BlasCoreInProcess, ForcedCoreIsHonoured) {
  if (std::getenv("ENGINE_OPENBLAS_CORE") != nullptr) GTEST_SKIP() << "a child run";
  EXPECT_EQ(testutil::RunSelf("BlasCoreInProcess.IsTheBestForThisCpu", {{"ENGINE_OPENBLAS_CORE", "Prescott"}}), 0);
}

TEST(DescribeCpu, NamesVendorFamilyModel) {
  const std::string s = engine::kernels::DescribeCpu();
  EXPECT_NE(s.find("family"), std::string::npos) << s;
  EXPECT_NE(s.find("model"), std::string::npos) << s;
}

}  // namespace
