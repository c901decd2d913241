// Machine description and memory readings for the FLOPs benchmark (see machine.h).
#include "bench/flops/machine.h"

#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

#include "engine/base/cpu.h"
#include "engine/base/parallel.h"
#include "engine/kernels/blas_core.h"

namespace flopsbench {

MachineInfo DescribeMachine() {
  MachineInfo m;
  m.cpu = engine::kernels::DescribeCpu();
  m.logical_cpus = static_cast<int>(std::thread::hardware_concurrency());
  m.threads = engine::NumThreads();
  m.openblas_core = engine::kernels::OpenBlasCoreName();
  m.openblas = engine::kernels::DescribeBlasCore();
  m.openblas_below_best = engine::kernels::BlasCoreBelowBest();
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
          {"openblas_core", m.openblas_core}, {"openblas", m.openblas},
          {"openblas_below_best", m.openblas_below_best}, {"isa", m.isa},
          {"date", m.date},      {"load_average_1_5_15", m.load}};
}

std::string FormatMachine(const MachineInfo& m) {
  std::ostringstream out;
  out << "machine:       " << m.cpu << " (" << m.logical_cpus << " logical CPUs)\n"
      << "threads:       " << m.threads << "\n"
      << "OpenBLAS:      " << m.openblas << "\n"
      << (m.openblas_below_best ? "WARNING:       the dense baseline runs below this CPU's best OpenBLAS kernels: "
                                  "every 'x dense' ratio flatters sparse\n"
                                : "")
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

bool ResetPeakRss() {
  std::ofstream out("/proc/self/clear_refs");
  if (!out) return false;
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

}  // namespace flopsbench
