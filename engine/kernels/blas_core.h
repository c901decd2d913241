// Which OpenBLAS kernels this process runs, and making sure they are the best this CPU can execute.
// OpenBLAS picks its kernels ("core") once, when it loads, from its own CPU table or from OPENBLAS_CORETYPE; Debian's
// 0.3.21 misjudges some CPUs (an Intel Xeon family 6 model 207 gets the SSE3 "Prescott" kernels, 4-5x too slow), and
// some environments pin a weaker core. Linking this library (every binary that links //engine/kernels:gemm does)
// installs a load-time check that, before main() and before any BLAS call, re-executes the process once with
// OPENBLAS_CORETYPE naming the best kernel family for this CPU when OpenBLAS chose a weaker one.
//
// ENGINE_OPENBLAS_CORE overrides the policy: unset or "auto" (the default, above), "keep" (never re-execute: whatever
// OpenBLAS chose stays), or a core name such as "Haswell" (use exactly that core; refused with a warning when the CPU
// cannot execute it, because it would die of SIGILL).
#ifndef ENGINE_KERNELS_BLAS_CORE_H_
#define ENGINE_KERNELS_BLAS_CORE_H_

#include <string>

namespace engine::kernels {

// Kernel families in increasing strength; a CPU can run every family up to its own.
enum class BlasFamily { kUnknown = 0, kSse = 1, kAvx = 2, kAvx2 = 3, kAvx512 = 4 };

const char* BlasFamilyName(BlasFamily family);  // "SSE", "AVX", "AVX2", "AVX-512", "unknown"
// The family of an OpenBLAS core name (case-insensitive): Prescott/Nehalem/... -> kSse, Sandybridge/Bulldozer/... ->
// kAvx, Haswell/Zen -> kAvx2, SkylakeX/Cooperlake/SapphireRapids -> kAvx512, anything else -> kUnknown.
BlasFamily FamilyOfCore(const std::string& core);
// The strongest family this CPU and OS can execute, from engine/base/cpu's checks: AVX-512 (engine::CpuHasAvx512:
// F, VL, DQ, BW and FMA, what OpenBLAS's SkylakeX kernels use), AVX2 (engine::CpuHasAvx2: with FMA), AVX, else SSE.
BlasFamily CpuBlasFamily();
// The core to ask OpenBLAS for on a CPU of `family`: SkylakeX, Zen (AMD) or Haswell, Sandybridge; "" for kSse or
// kUnknown (nothing better to ask for).
std::string BestCoreFor(BlasFamily family, bool amd);

// What the load-time check should do, as a pure function of its inputs (tested without re-executing anything).
struct BlasCoreDecision {
  std::string reexec_with;  // OPENBLAS_CORETYPE to re-execute with; "" = keep the current core
  std::string warning;      // printed to stderr when not empty (e.g. a forced core this CPU cannot run)
};
// current: the core OpenBLAS chose; cpu: CpuBlasFamily(); amd: the CPU's vendor; policy: ENGINE_OPENBLAS_CORE
// ("" = auto); already_reexecuted: this process is the re-executed one (never re-execute twice).
BlasCoreDecision DecideBlasCore(const std::string& current, BlasFamily cpu, bool amd, const std::string& policy,
                                bool already_reexecuted);

// The core OpenBLAS is running now (openblas_get_corename()).
std::string OpenBlasCoreName();
// True when the running core's family is below CpuBlasFamily() (only possible when a user forced it, or when the
// re-execution could not happen); benchmarks mark their dense ratios when this is true.
bool BlasCoreBelowBest();
// One line for start-up banners and benchmark headers, e.g. "OpenBLAS core Zen (AVX2; the best for this CPU)" or
// "OpenBLAS core SkylakeX (AVX-512; the best for this CPU; OpenBLAS had chosen Prescott, so the process re-executed
// with OPENBLAS_CORETYPE=SkylakeX)".
std::string DescribeBlasCore();
// The CPU as the machine names it, with vendor, family and model, and the best BLAS family: e.g.
// "AMD EPYC (AuthenticAMD family 25 model 1; AVX2)".
std::string DescribeCpu();

}  // namespace engine::kernels

#endif  // ENGINE_KERNELS_BLAS_CORE_H_
