// Run-time choice of the kernel instruction set: AVX-512 when the CPU has it, else AVX2 (with FMA), else a portable
// path. The same binary runs on every x86-64 CPU. Tests may cap the ISA to compare every path the CPU can run.
// The CpuHas* functions are the engine's only cpuid feature checks (kernels, the OpenBLAS core choice, benchmarks).
#ifndef ENGINE_BASE_CPU_H_
#define ENGINE_BASE_CPU_H_

#include <vector>

namespace engine {

// In increasing strength; a CPU that runs one runs every weaker one.
enum class Isa { kPortable = 0, kAvx2 = 1, kAvx512 = 2 };

// True when the CPU and OS support AVX-512 F, VL, DQ and BW, and FMA: every feature ENGINE_TARGET_AVX512
// (engine/kernels/isa_target.h) compiles for, and what OpenBLAS's SkylakeX kernels use. Checked once.
bool CpuHasAvx512();
// True when the CPU and OS support AVX2 and FMA (ENGINE_TARGET_AVX2's features). Checked once.
bool CpuHasAvx2();
// True when the CPU and OS support AVX (OpenBLAS's Sandybridge kernels; no engine kernel needs it alone).
bool CpuHasAvx();
// The strongest ISA the CPU runs.
Isa BestIsa();
// The ISA kernels use now: BestIsa(), capped by LimitIsa / ForcePortableIsa / ENGINE_ISA.
Isa ActiveIsa();
// Caps the kernels' ISA at `max` (kAvx512 = no cap). Not thread-safe; call between kernel calls. ENGINE_ISA=portable
// or ENGINE_ISA=avx2 in the environment sets the cap at start-up.
void LimitIsa(Isa max);
// LimitIsa(kPortable) when force is true, LimitIsa(kAvx512) (no cap) when false.
void ForcePortableIsa(bool force);
// Every ISA this CPU runs, weakest first (tests loop over it).
std::vector<Isa> SupportedIsas();
const char* IsaName(Isa isa);  // "portable", "avx2", "avx512"

}  // namespace engine

#endif  // ENGINE_BASE_CPU_H_
