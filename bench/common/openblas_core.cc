// See openblas_core.h.
#include "bench/common/openblas_core.h"

#include <strings.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "engine/base/cpu.h"

namespace bench {
namespace {

constexpr char kReexecMarker[] = "ENGINE_BENCH_REEXECUTED";

// True when `core` names OpenBLAS kernels that use AVX-512 (the best family on a CPU that has it).
bool IsAvx512Core(const char* core) {
  for (const char* name : {"SkylakeX", "Cooperlake", "SapphireRapids"}) {
    if (strcasecmp(core, name) == 0) return true;
  }
  return false;
}

}  // namespace

void ReexecWithBestOpenBlasCore(char** argv, std::string* original) {
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  const char* marker = std::getenv(kReexecMarker);
  if (coretype == nullptr) {
    *original = marker != nullptr ? marker : "";
    return;
  }
  *original = coretype;
  if (marker != nullptr) return;  // already re-executed once: never loop
  if (!engine::CpuHasAvx512() || IsAvx512Core(coretype)) return;  // already the best this CPU can use
  setenv(kReexecMarker, coretype, /*overwrite=*/1);
  unsetenv("OPENBLAS_CORETYPE");
  execv("/proc/self/exe", argv);
  std::perror("execv(/proc/self/exe) failed; continuing with the pinned OpenBLAS core");
}

}  // namespace bench
