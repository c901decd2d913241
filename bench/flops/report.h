// Output of the FLOPs benchmark: Markdown tables from JSON rows (the same table goes to the console and to the .md
// file), the break-even density, the summary, the peer (PyTorch) comparison, and gnuplot PNGs. Formatting only:
// every number comes from flops_main's measurements.
#ifndef BENCH_FLOPS_REPORT_H_
#define BENCH_FLOPS_REPORT_H_

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace flopsbench {

struct Column {
  std::string header;
  std::string key;      // field of the row; missing or null prints "-"
  double scale = 1.0;   // the value is multiplied by this first (e.g. 1e3 for ms)
  int decimals = 3;     // fixed decimals; < 0 means the value is text
};

// A GitHub Markdown table: one line per row.
std::string MarkdownTable(const std::vector<Column>& columns, const nlohmann::json& rows);

// The density at which ratio(density) crosses 1, interpolating linearly in log-log between the two measured
// points around the crossing (points: (density, ratio), any order). Returns 1 when even the densest sparse point
// is faster than dense (ratio < 1 everywhere below 1), and 0 when no measured density is faster.
double BreakEvenDensity(std::vector<std::pair<double, double>> points);

// The sections of a run's Markdown report, each its prose paragraph and table followed by a blank line.
// The training step: theoretical FLOPs, and with have_step counted FLOPs, step times (medians of `steps`) and update
// cost; without it the kernel-level time ratio.
std::string StepSection(const nlohmann::json& rows, bool have_step, int steps);
// Kernel level, phase by phase, for the static and dense rows; "" when the run did not time kernels.
std::string KernelSection(const nlohmann::json& rows);
// Memory from sizes (runs that built the model).
std::string MemorySection(const nlohmann::json& rows);
// Per layer, kernel level (no blank line after the table).
std::string LayerSection(const nlohmann::json& layer_rows);

// The headline figures of a run's rows: the break-even densities (whole step only when have_step; kernel level when
// measured), the static row at density 0.1 and RigL's amortised update overhead by density.
nlohmann::json Summarise(const nlohmann::json& rows, bool have_step);
// Those figures as Markdown bullets, each beside its goal.
std::string FormatSummary(const nlohmann::json& summary);

// PyTorch rows (bench/peers/torch_step.py JSON) beside ours for the same model, widths and density.
std::string PeerTable(const nlohmann::json& peer, const nlohmann::json& ours, const std::string& model,
                      const std::string& width);

// Writes <out>/<stem>_density.png (time ratio vs density, log-log, with the ideal line) and <out>/<stem>_flops.png
// (measured time vs theoretical FLOPs per method) through gnuplot. Returns "" or an error text.
std::string Plot(const nlohmann::json& rows, const std::string& out_dir, const std::string& stem,
                 const std::string& title);

}  // namespace flopsbench

#endif  // BENCH_FLOPS_REPORT_H_
