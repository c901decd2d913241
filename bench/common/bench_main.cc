// The main() every benchmark binary links instead of benchmark_main. It (a) names the CPU and the OpenBLAS core
// (engine/kernels/blas_core.h has already made it the CPU's best before main(), unless ENGINE_OPENBLAS_CORE forced
// another: then the dense ratios are marked as flattering); (b) takes --threads=N (default 2) for engine::SetNumThreads;
// (c) records openblas_core, isa and threads as benchmark context; (d) runs the benchmarks and prints a summary of
// each sparse run's time relative to the dense GEMM of the same m/k/n (runs named BM_GemmDense*).
// It is not a benchmark library: benchmarks register themselves with BENCHMARK() as usual.

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "engine/base/cpu.h"
#include "engine/base/memory.h"
#include "engine/base/parallel.h"
#include "engine/kernels/blas_core.h"

namespace {

// (b) Removes --threads=N from argv and returns N (default 2).
int TakeThreadsFlag(int* argc, char** argv) {
  int threads = 2;
  int out = 1;
  for (int i = 1; i < *argc; ++i) {
    if (std::strncmp(argv[i], "--threads=", 10) == 0) {
      threads = std::atoi(argv[i] + 10);
      if (threads < 1) {
        std::fprintf(stderr, "bench_main: --threads=%s given; expected an integer >= 1\n", argv[i] + 10);
        std::exit(2);
      }
    } else {
      argv[out++] = argv[i];
    }
  }
  *argc = out;
  argv[out] = nullptr;
  return threads;
}

// (d) A console reporter that also keeps each run's name, time and useful FLOP/s for the summary table.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  struct Row {
    std::string family, shape, args, aggregate;
    double seconds;      // real time per iteration
    double cpu_seconds;  // CPU time of the main thread per iteration
    double flops;        // useful FLOP/s counter (per real second), 0 when absent
  };

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      if (run.run_type == Run::RT_Aggregate && run.aggregate_name != "median") continue;
      Row row;
      row.family = run.run_name.function_name;
      row.args = run.run_name.args;
      row.shape = ShapeKey(run.run_name.args);
      row.aggregate = run.run_type == Run::RT_Aggregate ? run.aggregate_name : "";
      row.seconds = run.GetAdjustedRealTime() / benchmark::GetTimeUnitMultiplier(run.time_unit);
      row.cpu_seconds = run.GetAdjustedCPUTime() / benchmark::GetTimeUnitMultiplier(run.time_unit);
      const auto it = run.counters.find("FLOP/s");
      row.flops = it != run.counters.end() ? it->second.value : 0.0;
      rows_.push_back(row);
    }
    ConsoleReporter::ReportRuns(runs);
  }

  // Prints time(sparse) / time(dense) for every run with a dense run of the same m/k/n. With repetitions, only
  // medians are listed. With one thread it adds GFLOP/s per CPU second of the main thread, which is robust to
  // other processes taking the core (the wall clock is not).
  void PrintSummary(bool one_thread) const {
    bool any_median = false;
    for (const Row& r : rows_) any_median |= r.aggregate == "median";
    std::map<std::string, double> dense_seconds, dense_cpu_seconds;
    for (const Row& r : rows_) {
      if (r.family.rfind("BM_GemmDense", 0) == 0 && (!any_median || r.aggregate == "median")) {
        dense_seconds[r.shape] = r.seconds;
        dense_cpu_seconds[r.shape] = r.cpu_seconds;
      }
    }
    if (dense_seconds.empty()) return;
    std::printf("\nSummary%s: useful GFLOP/s and time relative to the dense GEMM of the same m/k/n%s\n",
                any_median ? " (medians)" : "",
                engine::kernels::BlasCoreBelowBest()
                    ? " [DENSE BASELINE BELOW THIS CPU'S BEST OPENBLAS KERNELS: time/dense flatters sparse]"
                    : "");
    std::printf("%-30s %-38s %10s %9s %11s%s\n", "benchmark", "args", "time_ms", "GFLOP/s", "time/dense",
                one_thread ? "  cpu_GFLOP/s  cpu_time/dense" : "");
    for (const Row& r : rows_) {
      if (any_median && r.aggregate != "median") continue;
      const auto it = dense_seconds.find(r.shape);
      if (it == dense_seconds.end()) continue;
      std::printf("%-30s %-38s %10.4f %9.1f %11.3f", r.family.c_str(), r.args.c_str(), r.seconds * 1e3,
                  r.flops * 1e-9, r.seconds / it->second);
      if (one_thread) {
        const double dense_cpu = dense_cpu_seconds.at(r.shape);
        std::printf("  %11.1f  %14.3f", r.flops * r.seconds / r.cpu_seconds * 1e-9, r.cpu_seconds / dense_cpu);
      }
      std::printf("\n");
    }
  }

 private:
  // "m:300/k:784/n:128/density_pct:10" -> "m:300/k:784/n:128" (the fields named m, k and n).
  static std::string ShapeKey(const std::string& args) {
    std::string key;
    size_t start = 0;
    while (start <= args.size()) {
      size_t end = args.find('/', start);
      if (end == std::string::npos) end = args.size();
      const std::string field = args.substr(start, end - start);
      if (field.rfind("m:", 0) == 0 || field.rfind("k:", 0) == 0 || field.rfind("n:", 0) == 0) {
        key += (key.empty() ? "" : "/") + field;
      }
      start = end + 1;
    }
    return key;
  }

  std::vector<Row> rows_;
};

}  // namespace

int main(int argc, char** argv) {
  const int threads = TakeThreadsFlag(&argc, argv);
  engine::ReuseFreedMemory();  // as the trainer does
  engine::SetNumThreads(threads);

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  // (a)
  benchmark::AddCustomContext("cpu", engine::kernels::DescribeCpu());
  benchmark::AddCustomContext("openblas_core", engine::kernels::OpenBlasCoreName());
  benchmark::AddCustomContext("openblas", engine::kernels::DescribeBlasCore());
  std::fprintf(stderr, "cpu: %s\n%s\n", engine::kernels::DescribeCpu().c_str(),
               engine::kernels::DescribeBlasCore().c_str());
  if (engine::kernels::BlasCoreBelowBest()) {
    std::fprintf(stderr, "WARNING: the dense baseline runs below this CPU's best OpenBLAS kernels: every 'x dense' "
                         "ratio below flatters the sparse kernels\n");
  }
  benchmark::AddCustomContext("isa", engine::IsaName(engine::ActiveIsa()));
  benchmark::AddCustomContext("threads", std::to_string(threads));

  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintSummary(threads == 1);
  benchmark::Shutdown();
  return 0;
}
