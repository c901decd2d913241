// See blas_core.h. The load-time check is a constructor of this file: glibc runs it after OpenBLAS's own (OpenBLAS
// is a dependency of this object, so it is initialised first) and passes it the process's argv.
#include "engine/kernels/blas_core.h"

#include <strings.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "engine/base/cpu.h"

extern "C" char* openblas_get_corename();

namespace engine::kernels {
namespace {

// Set in the environment of the re-executed process: "<pid>:<core OpenBLAS had chosen>:<OPENBLAS_CORETYPE as the
// user had it, or empty>". The pid (unchanged by execv) tells the re-executed process from its children.
constexpr char kReexecRecord[] = "ENGINE_OPENBLAS_REEXEC";
constexpr char kPolicyVariable[] = "ENGINE_OPENBLAS_CORE";

bool EqualsIgnoreCase(const std::string& a, const char* b) { return strcasecmp(a.c_str(), b) == 0; }

std::string Getenv(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

bool CpuIsAmd() {
  __builtin_cpu_init();
  return __builtin_cpu_is("amd") != 0;
}

// What the re-executed process learns from kReexecRecord (empty fields when this process was not re-executed).
struct ReexecRecord {
  bool mine = false;         // this very process was re-executed by the check
  std::string chosen_core;   // what OpenBLAS had chosen before
  std::string original_env;  // OPENBLAS_CORETYPE before
};

ReexecRecord ReadRecord() {
  ReexecRecord r;
  const std::string text = Getenv(kReexecRecord);
  const size_t a = text.find(':');
  if (a == std::string::npos) return r;
  const size_t b = text.find(':', a + 1);
  if (b == std::string::npos) return r;
  r.mine = text.substr(0, a) == std::to_string(getpid());
  r.chosen_core = text.substr(a + 1, b - a - 1);
  r.original_env = text.substr(b + 1);
  return r;
}

// The value of "key" in the first block of /proc/cpuinfo ("" if absent).
std::string CpuInfoField(const char* key) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  const std::string k = key;
  while (std::getline(in, line)) {
    if (line.rfind(k, 0) == 0 && line.size() > k.size() && (line[k.size()] == '\t' || line[k.size()] == ' ' ||
                                                            line[k.size()] == ':')) {
      const size_t colon = line.find(':');
      return colon == std::string::npos || colon + 2 > line.size() ? "" : line.substr(colon + 2);
    }
  }
  return "";
}

// Runs before main(): re-executes the process when DecideBlasCore says so.
__attribute__((constructor)) void CheckBlasCoreAtLoad(int argc, char** argv, char** /*envp*/) {
  if (argc < 1 || argv == nullptr) return;
  const ReexecRecord record = ReadRecord();
  const BlasCoreDecision d =
      DecideBlasCore(OpenBlasCoreName(), CpuBlasFamily(), CpuIsAmd(), Getenv(kPolicyVariable), record.mine);
  if (!d.warning.empty()) std::fprintf(stderr, "engine: %s\n", d.warning.c_str());
  if (d.reexec_with.empty()) return;
  char exe[PATH_MAX];
  const ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (len <= 0) {
    std::fprintf(stderr, "engine: cannot read /proc/self/exe to restart with OPENBLAS_CORETYPE=%s; keeping %s\n",
                 d.reexec_with.c_str(), OpenBlasCoreName().c_str());
    return;
  }
  exe[len] = '\0';
  const std::string value = std::to_string(getpid()) + ":" + OpenBlasCoreName() + ":" + Getenv("OPENBLAS_CORETYPE");
  setenv(kReexecRecord, value.c_str(), /*overwrite=*/1);
  setenv("OPENBLAS_CORETYPE", d.reexec_with.c_str(), /*overwrite=*/1);
  execv(exe, argv);
  std::perror("engine: execv(/proc/self/exe) failed; keeping OpenBLAS's own choice of kernels");
}

}  // namespace

const char* BlasFamilyName(BlasFamily family) {
  switch (family) {
    case BlasFamily::kSse: return "SSE";
    case BlasFamily::kAvx: return "AVX";
    case BlasFamily::kAvx2: return "AVX2";
    case BlasFamily::kAvx512: return "AVX-512";
    case BlasFamily::kUnknown: break;
  }
  return "unknown";
}

BlasFamily FamilyOfCore(const std::string& core) {
  // OpenBLAS 0.3.21's x86-64 DYNAMIC_ARCH cores, by the widest instructions their kernels use.
  for (const char* name : {"SkylakeX", "Cooperlake", "SapphireRapids"}) {
    if (EqualsIgnoreCase(core, name)) return BlasFamily::kAvx512;
  }
  for (const char* name : {"Haswell", "Zen"}) {
    if (EqualsIgnoreCase(core, name)) return BlasFamily::kAvx2;
  }
  for (const char* name : {"Sandybridge", "Bulldozer", "Piledriver", "Steamroller", "Excavator"}) {
    if (EqualsIgnoreCase(core, name)) return BlasFamily::kAvx;
  }
  for (const char* name : {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "Opteron",
                           "Opteron_SSE3", "Barcelona", "Bobcat", "Katmai", "Coppermine", "Northwood", "Banias"}) {
    if (EqualsIgnoreCase(core, name)) return BlasFamily::kSse;
  }
  return BlasFamily::kUnknown;
}

BlasFamily CpuBlasFamily() {
  if (engine::CpuHasAvx512()) return BlasFamily::kAvx512;
  if (engine::CpuHasAvx2()) return BlasFamily::kAvx2;
  if (engine::CpuHasAvx()) return BlasFamily::kAvx;
  return BlasFamily::kSse;
}

std::string BestCoreFor(BlasFamily family, bool amd) {
  switch (family) {
    case BlasFamily::kAvx512: return "SkylakeX";
    case BlasFamily::kAvx2: return amd ? "Zen" : "Haswell";
    case BlasFamily::kAvx: return "Sandybridge";
    case BlasFamily::kSse:
    case BlasFamily::kUnknown: break;
  }
  return "";
}

BlasCoreDecision DecideBlasCore(const std::string& current, BlasFamily cpu, bool amd, const std::string& policy,
                                bool already_reexecuted) {
  BlasCoreDecision d;
  if (EqualsIgnoreCase(policy, "keep")) return d;
  std::string want;
  if (policy.empty() || EqualsIgnoreCase(policy, "auto")) {
    const BlasFamily have = FamilyOfCore(current);
    // Below the CPU's best, or above what it can execute (an OPENBLAS_CORETYPE that would die of SIGILL).
    if (have != cpu) want = BestCoreFor(cpu, amd);
  } else if (FamilyOfCore(policy) == BlasFamily::kUnknown) {
    d.warning = std::string(kPolicyVariable) + "=" + policy +
                ": not an OpenBLAS x86-64 core name (e.g. SkylakeX, Haswell, Zen, Sandybridge, Prescott), nor auto or "
                "keep; keeping OpenBLAS core " + current;
    return d;
  } else if (FamilyOfCore(policy) > cpu) {
    d.warning = std::string(kPolicyVariable) + "=" + policy + ": needs " + BlasFamilyName(FamilyOfCore(policy)) +
                ", which this CPU lacks (best: " + BlasFamilyName(cpu) + "); keeping OpenBLAS core " + current;
    return d;
  } else {
    want = policy;
  }
  if (want.empty() || EqualsIgnoreCase(current, want.c_str())) return d;
  if (already_reexecuted) {
    d.warning = "OpenBLAS still runs core " + current + " after restarting with OPENBLAS_CORETYPE=" + want +
                " (this OpenBLAS lacks those kernels?); continuing with " + current;
    return d;
  }
  d.reexec_with = want;
  return d;
}

std::string OpenBlasCoreName() {
  const char* name = openblas_get_corename();
  return name != nullptr ? name : "";
}

bool BlasCoreBelowBest() { return FamilyOfCore(OpenBlasCoreName()) < CpuBlasFamily(); }

std::string DescribeBlasCore() {
  const std::string core = OpenBlasCoreName();
  const BlasFamily have = FamilyOfCore(core), best = CpuBlasFamily();
  std::string s = "OpenBLAS core " + core + " (" + BlasFamilyName(have);
  if (have == best) {
    s += "; the best for this CPU";
  } else {
    s += have < best ? "; BELOW this CPU's best, " : "; ABOVE what this CPU can run, ";
    s += std::string(BlasFamilyName(best)) + "/" + BestCoreFor(best, CpuIsAmd());
  }
  const std::string policy = Getenv(kPolicyVariable);
  if (!policy.empty() && !EqualsIgnoreCase(policy, "auto")) s += "; " + std::string(kPolicyVariable) + "=" + policy;
  const ReexecRecord record = ReadRecord();
  if (record.mine) {
    s += "; OpenBLAS had chosen " + record.chosen_core +
         (record.original_env.empty() ? std::string() : " from OPENBLAS_CORETYPE=" + record.original_env) +
         ", so the process restarted with OPENBLAS_CORETYPE=" + Getenv("OPENBLAS_CORETYPE");
  } else if (!Getenv("OPENBLAS_CORETYPE").empty()) {
    s += "; OPENBLAS_CORETYPE=" + Getenv("OPENBLAS_CORETYPE");
  }
  return s + ")";
}

std::string DescribeCpu() {
  std::string name = CpuInfoField("model name");
  if (name.empty()) name = "unknown CPU";
  return name + " (" + CpuInfoField("vendor_id") + " family " + CpuInfoField("cpu family") + " model " +
         CpuInfoField("model") + "; " + BlasFamilyName(CpuBlasFamily()) + ")";
}

}  // namespace engine::kernels
