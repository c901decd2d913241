// Machine description and memory readings for the FLOPs benchmark (see machine.h).
#include "bench/flops/machine.h"


#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

#include "engine/base/cpu.h"
#include "engine/base/parallel.h"
#include "engine/kernels/gemm.h"

namespace flopsbench {
namespace {

// The value of "key:" in /proc/self/status, in bytes (the file reports kB).
int64_t StatusKb(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(key) + ":";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) return std::atoll(line.c_str() + prefix.size()) * 1024;
  }
  return 0;
}

}  // namespace

MachineInfo DescribeMachine(const std::string& original_coretype) {
  MachineInfo m;
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0 && m.cpu.empty()) {
      const size_t colon = line.find(':');
      m.cpu = colon == std::string::npos ? line : line.substr(colon + 2);
    }
  }
  m.logical_cpus = static_cast<int>(std::thread::hardware_concurrency());
  m.threads = engine::NumThreads();
  m.openblas_core = engine::kernels::OpenBlasCoreName();
  if (original_coretype.empty()) {
    m.coretype_env = "(unset)";
  } else {
    m.coretype_env = original_coretype + (std::getenv("OPENBLAS_CORETYPE") == nullptr ? " (unset by re-executing)"
                                                                                        : " (kept)");
  }
  m.isa = engine::IsaName(engine::ActiveIsa());
  char date[64];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S%z", std::localtime(&now));
  m.date = date;
  std::ifstream loadavg("/proc/loadavg");
  std::string a, b, c;
  loadavg >> a >> b >> c;
  m.load = a + " " + b + " " + c;
  return m;
}

nlohmann::json ToJson(const MachineInfo& m) {
  return {{"cpu", m.cpu},        {"logical_cpus", m.logical_cpus}, {"threads", m.threads},
          {"openblas_core", m.openblas_core}, {"openblas_coretype_env", m.coretype_env}, {"isa", m.isa},
          {"date", m.date},      {"load_average_1_5_15", m.load}};
}

std::string FormatMachine(const MachineInfo& m) {
  std::ostringstream out;
  out << "machine:       " << m.cpu << " (" << m.logical_cpus << " logical CPUs)\n"
      << "threads:       " << m.threads << "\n"
      << "OpenBLAS core: " << m.openblas_core << " (OPENBLAS_CORETYPE " << m.coretype_env << ")\n"
      << "kernel ISA:    " << m.isa << "\n"
      << "date:          " << m.date << "\n"
      << "load average:  " << m.load << " (1, 5, 15 min, at start)\n";
  return out.str();
}

std::string LoadNow() {
  std::ifstream loadavg("/proc/loadavg");
  std::string a;
  loadavg >> a;
  return a;
}

int64_t RssBytes() { return StatusKb("VmRSS"); }
int64_t PeakRssBytes() { return StatusKb("VmHWM"); }

bool ResetPeakRss() {
  std::ofstream out("/proc/self/clear_refs");
  if (!out) return false;
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

}  // namespace flopsbench
