// CPU feature detection for the AVX-512 / portable kernel switch.
#include "engine/base/cpu.h"

#include <cstdlib>
#include <cstring>

namespace engine {
namespace {

bool ForcedFromEnvironment() {
  const char* value = std::getenv("ENGINE_ISA");
  return value != nullptr && std::strcmp(value, "portable") == 0;
}

bool g_force_portable = ForcedFromEnvironment();

}  // namespace

bool CpuHasAvx512() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
  }();
  return has;
}

Isa ActiveIsa() { return (!g_force_portable && CpuHasAvx512()) ? Isa::kAvx512 : Isa::kPortable; }

void ForcePortableIsa(bool force) { g_force_portable = force; }

const char* IsaName(Isa isa) { return isa == Isa::kAvx512 ? "avx512" : "portable"; }

}  // namespace engine
