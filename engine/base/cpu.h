// Run-time choice of the kernel instruction set: AVX-512 when the CPU has it, a portable path otherwise.
// The same binary runs on CPUs without AVX-512. Tests may force the portable path to compare both.
#ifndef ENGINE_BASE_CPU_H_
#define ENGINE_BASE_CPU_H_

namespace engine {

enum class Isa { kPortable, kAvx512 };

// True when the CPU and OS support AVX-512F (checked once).
bool CpuHasAvx512();
// The ISA kernels use now: kAvx512 if available and not disabled, else kPortable.
Isa ActiveIsa();
// Forces kernels onto the portable path (true) or back to the best available (false). Not thread-safe; call
// between kernel calls. Setting ENGINE_ISA=portable in the environment does the same at start-up.
void ForcePortableIsa(bool force);
const char* IsaName(Isa isa);

}  // namespace engine

#endif  // ENGINE_BASE_CPU_H_
