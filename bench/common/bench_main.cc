// The main() every benchmark binary links instead of benchmark_main. It (a) names the CPU and the OpenBLAS core
// (engine/kernels/blas_core.h has already made it the CPU's best before main(), unless ENGINE_OPENBLAS_CORE forced
// another: then the dense ratios are marked as flattering); (b) takes --threads=N (default 2) for engine::SetNumThreads;
// (c) records the CPU, the OpenBLAS core, the kernel ISA, threads and load as benchmark context (the JSON's
// "context"); (d) runs the benchmarks with the reporter --benchmark_format asks for (console, json, csv, as a plain
// BENCHMARK_MAIN() would) and prints a summary of each sparse run's time relative to the dense GEMM of the same
// m/k/n and product (runs named BM_GemmDense*): on stdout after the console table, on stderr otherwise.
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

// (d) The rows of the summary table: each run's name, time and useful FLOP/s, kept as the runs are reported.
class Summary {
 public:
  struct Row {
    std::string family, shape, args, aggregate;
    double seconds;      // real time per iteration
    double cpu_seconds;  // CPU time of the main thread per iteration
    double flops;        // useful FLOP/s counter (per real second), 0 when absent
  };

  void Add(const std::vector<benchmark::BenchmarkReporter::Run>& runs) {
    using Run = benchmark::BenchmarkReporter::Run;
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      if (run.run_type == Run::RT_Aggregate && run.aggregate_name != "median") continue;
      Row row;
      row.family = run.run_name.function_name;
      const size_t colon = row.family.rfind("::");  // bench::BM_GemmDense -> BM_GemmDense
      if (colon != std::string::npos) row.family = row.family.substr(colon + 2);
      row.args = run.run_name.args;
      row.shape = ShapeKey(run.run_name.args);
      row.aggregate = run.run_type == Run::RT_Aggregate ? run.aggregate_name : "";
      row.seconds = run.GetAdjustedRealTime() / benchmark::GetTimeUnitMultiplier(run.time_unit);
      row.cpu_seconds = run.GetAdjustedCPUTime() / benchmark::GetTimeUnitMultiplier(run.time_unit);
      const auto it = run.counters.find("FLOP/s");
      row.flops = it != run.counters.end() ? it->second.value : 0.0;
      rows_.push_back(row);
    }
  }

  // Prints time(sparse) / time(dense) for every run with a dense run of the same m/k/n and the same product
  // (forward: BM_GemmDense; transposed: BM_GemmDenseTN; SDDMM: BM_GemmDenseNT; any of them when the binary has only
  // one). With repetitions, only medians are listed. With one thread it adds GFLOP/s per CPU second of the main
  // thread, which is robust to other processes taking the core (the wall clock is not).
  void Print(std::FILE* out, bool one_thread) const {
    bool any_median = false;
    for (const Row& r : rows_) any_median |= r.aggregate == "median";
    std::map<std::string, const Row*> dense;  // product + shape -> dense row; shape alone -> any dense row
    for (const Row& r : rows_) {
      if (r.family.rfind("BM_GemmDense", 0) != 0 || (any_median && r.aggregate != "median")) continue;
      dense[Product(r.family) + "|" + r.shape] = &r;
      dense.emplace("|" + r.shape, &r);
    }
    if (dense.empty()) return;
    std::fprintf(out, "\nSummary%s: useful GFLOP/s and time relative to the dense GEMM of the same m/k/n%s\n",
                 any_median ? " (medians)" : "",
                 engine::kernels::BlasCoreBelowBest()
                     ? " [DENSE BASELINE BELOW THIS CPU'S BEST OPENBLAS KERNELS: time/dense flatters sparse]"
                     : "");
    std::fprintf(out, "%-30s %-38s %10s %9s %11s%s\n", "benchmark", "args", "time_ms", "GFLOP/s", "time/dense",
                 one_thread ? "  cpu_GFLOP/s  cpu_time/dense" : "");
    for (const Row& r : rows_) {
      if (any_median && r.aggregate != "median") continue;
      auto it = dense.find(Product(r.family) + "|" + r.shape);
      if (it == dense.end()) it = dense.find("|" + r.shape);
      if (it == dense.end()) continue;
      std::fprintf(out, "%-30s %-38s %10.4f %9.1f %11.3f", r.family.c_str(), r.args.c_str(), r.seconds * 1e3,
                   r.flops * 1e-9, r.seconds / it->second->seconds);
      if (one_thread) {
        std::fprintf(out, "  %11.1f  %14.3f", r.flops * r.seconds / r.cpu_seconds * 1e-9,
                     r.cpu_seconds / it->second->cpu_seconds);
      }
      std::fprintf(out, "\n");
    }
  }

 private:
  // Which dense product a run is compared with: "TN" (transposed products), "NT" (SDDMM), "NN" otherwise.
  static std::string Product(const std::string& family) {
    if (family.rfind("BM_GemmDense", 0) == 0) return family.size() > 12 ? family.substr(12) : "NN";
    if (family.find("Transposed") != std::string::npos) return "TN";
    if (family.find("Sddmm") != std::string::npos) return "NT";
    return "NN";
  }

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

// The display reporter Google Benchmark would pick for --benchmark_format (console, json or csv), keeping the rows
// for the summary as they pass.
template <typename Base>
class Collecting : public Base {
 public:
  explicit Collecting(Summary* summary) : summary_(summary) {}
  void ReportRuns(const std::vector<benchmark::BenchmarkReporter::Run>& runs) override {
    summary_->Add(runs);
    Base::ReportRuns(runs);
  }

 private:
  Summary* summary_;
};

// The value of --benchmark_format in argv ("console" when absent), read before benchmark::Initialize consumes it.
std::string FormatFlag(int argc, char** argv) {
  std::string format = "console";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--benchmark_format=", 19) == 0) format = argv[i] + 19;
  }
  return format;
}

std::string LoadAverage() {
  std::FILE* f = std::fopen("/proc/loadavg", "r");
  if (f == nullptr) return "unknown";
  char text[64] = {0};
  const bool ok = std::fgets(text, sizeof(text), f) != nullptr;
  std::fclose(f);
  std::string s = ok ? text : "unknown";
  const size_t third = s.find(' ', s.find(' ', s.find(' ') + 1) + 1);  // the 1, 5 and 15 minute averages
  return third == std::string::npos ? s : s.substr(0, third);
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = TakeThreadsFlag(&argc, argv);
  engine::ReuseFreedMemory();  // as the trainer does
  engine::SetNumThreads(threads);

  const std::string format = FormatFlag(argc, argv);  // before Initialize removes the flag from argv
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

  benchmark::AddCustomContext("load_average", LoadAverage());

  // (d) Honour --benchmark_format exactly as BENCHMARK_MAIN() would; our summary goes to stdout after the console
  // table, or to stderr so that JSON and CSV output stays machine-readable.
  Summary summary;
  if (format == "json") {
    Collecting<benchmark::JSONReporter> reporter(&summary);
    benchmark::RunSpecifiedBenchmarks(&reporter);
    summary.Print(stderr, threads == 1);
  } else if (format == "csv") {
    // Google Benchmark 1.7 deprecates its CSV reporter but still ships it, and --benchmark_format=csv still selects it
    // in BENCHMARK_MAIN(); we keep the same behaviour without the warning.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    Collecting<benchmark::CSVReporter> reporter(&summary);
#pragma GCC diagnostic pop
    benchmark::RunSpecifiedBenchmarks(&reporter);
    summary.Print(stderr, threads == 1);
  } else {
    Collecting<benchmark::ConsoleReporter> reporter(&summary);
    benchmark::RunSpecifiedBenchmarks(&reporter);
    summary.Print(stdout, threads == 1);
  }
  benchmark::Shutdown();
  return 0;
}
