// What the FLOPs benchmark prints above every table so that no number is read out of context: the CPU, threads,
// OpenBLAS core, kernel ISA, date and load; plus the process's memory readings (VmRSS / VmHWM, read by
// engine/base/memory, and the VmHWM reset). The OpenBLAS core was made the CPU's best before main()
// (engine/kernels/blas_core.h).
#ifndef BENCH_FLOPS_MACHINE_H_
#define BENCH_FLOPS_MACHINE_H_

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/base/memory.h"

namespace flopsbench {

struct MachineInfo {
  std::string cpu;             // engine::kernels::DescribeCpu(): name, vendor, family, model, best BLAS family
  int logical_cpus = 0;
  int threads = 0;             // engine::NumThreads() for every kernel
  std::string openblas_core;   // openblas_get_corename()
  std::string openblas;        // engine::kernels::DescribeBlasCore(): family, and how it was chosen
  bool openblas_below_best = false;  // true only when ENGINE_OPENBLAS_CORE forced a weaker core
  std::string isa;             // engine::ActiveIsa()
  std::string date;            // local time, ISO 8601
  std::string load;            // /proc/loadavg's three load averages when the run started
};

MachineInfo DescribeMachine();
nlohmann::json ToJson(const MachineInfo& m);
// "machine: ...\nthreads: ...\n..." (one line per field).
std::string FormatMachine(const MachineInfo& m);

// The 1-minute load average now, as text (e.g. "1.93").
std::string LoadNow();
// Current and peak resident set size of this process in bytes (0 if /proc is unreadable): the engine's readings.
using engine::PeakRssBytes;
using engine::RssBytes;
// Resets VmHWM to the current RSS (Linux >= 4.0: "5" > /proc/self/clear_refs); false if not possible.
bool ResetPeakRss();

}  // namespace flopsbench

#endif  // BENCH_FLOPS_MACHINE_H_
