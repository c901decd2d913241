// CPU feature detection for the AVX-512 / AVX2 / portable kernel switch.
#include "engine/base/cpu.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace engine {
namespace {

Isa CapFromEnvironment() {
  const char* value = std::getenv("ENGINE_ISA");
  if (value == nullptr) return Isa::kAvx512;
  if (std::strcmp(value, "portable") == 0) return Isa::kPortable;
  if (std::strcmp(value, "avx2") == 0) return Isa::kAvx2;
  return Isa::kAvx512;
}

Isa g_cap = CapFromEnvironment();

}  // namespace

bool CpuHasAvx512() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0 && __builtin_cpu_supports("avx512vl") != 0 &&
           __builtin_cpu_supports("avx512dq") != 0 && __builtin_cpu_supports("avx512bw") != 0 &&
           __builtin_cpu_supports("fma") != 0;
  }();
  return has;
}

bool CpuHasAvx2() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0 && __builtin_cpu_supports("fma") != 0;
  }();
  return has;
}

bool CpuHasAvx() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx") != 0;
  }();
  return has;
}

Isa BestIsa() { return CpuHasAvx512() ? Isa::kAvx512 : CpuHasAvx2() ? Isa::kAvx2 : Isa::kPortable; }

Isa ActiveIsa() { return std::min(BestIsa(), g_cap); }

void LimitIsa(Isa max) { g_cap = max; }

void ForcePortableIsa(bool force) { g_cap = force ? Isa::kPortable : Isa::kAvx512; }

std::vector<Isa> SupportedIsas() {
  std::vector<Isa> isas;
  for (Isa isa : {Isa::kPortable, Isa::kAvx2, Isa::kAvx512}) {
    if (isa <= BestIsa()) isas.push_back(isa);
  }
  return isas;
}

const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return "avx512";
    case Isa::kAvx2: return "avx2";
    case Isa::kPortable: break;
  }
  return "portable";
}

}  // namespace engine
