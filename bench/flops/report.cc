// Markdown tables, break-even density, peer comparison and gnuplot plots (see report.h).
#include "bench/flops/report.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace flopsbench {
namespace {

// text as a gnuplot single-quoted string: inside one, only a quote is special, written twice. The paths hold the
// user's --out_dir, so they must never be able to end the string and become gnuplot commands (which can run
// programs).
std::string GnuplotString(const std::string& text) {
  std::string out = "'";
  for (char ch : text) {
    out += ch;
    if (ch == '\'') out += '\'';
  }
  return out + "'";
}

// Runs `gnuplot script` with no shell in between (the script's path holds the user's --out_dir), its stdout and
// stderr collected into *output. Returns its exit status, or -1 when it could not be started.
int RunGnuplot(const std::string& script, std::string* output) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::string program = "gnuplot";
  std::string argument = script;
  char* argv[] = {program.data(), argument.data(), nullptr};
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, "gnuplot", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (spawned != 0) {
    close(fds[0]);
    *output = std::string("could not start gnuplot: ") + std::strerror(spawned);
    return -1;
  }
  char buf[256];
  ssize_t got = 0;
  while ((got = read(fds[0], buf, sizeof(buf))) > 0) output->append(buf, static_cast<size_t>(got));
  close(fds[0]);
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The columns that name a row, the same in every table.
const Column kDensityColumn = {"density", "density", 1, 3};
const Column kMethodColumn = {"method", "method", 1, -1};

std::string Cell(const nlohmann::json& row, const Column& c) {
  if (!row.contains(c.key) || row[c.key].is_null()) return "-";
  const nlohmann::json& v = row[c.key];
  if (c.decimals < 0 || v.is_string()) return v.is_string() ? v.get<std::string>() : v.dump();
  char buf[64];
  const double x = v.get<double>() * c.scale;
  if (c.decimals == 0 && std::fabs(x) >= 1e7) {
    std::snprintf(buf, sizeof(buf), "%.3g", x);
  } else {
    std::snprintf(buf, sizeof(buf), "%.*f", c.decimals, x);
  }
  return buf;
}

// Row lookup: the row with this method at this density, or nullptr.
const nlohmann::json* FindRow(const nlohmann::json& rows, const std::string& method, double density) {
  for (const nlohmann::json& r : rows) {
    if (r.value("method", "") == method && std::fabs(r.value("density", 0.0) - density) < 1e-9) return &r;
  }
  return nullptr;
}

}  // namespace

std::string MarkdownTable(const std::vector<Column>& columns, const nlohmann::json& rows) {
  std::ostringstream out;
  out << "|";
  for (const Column& c : columns) out << " " << c.header << " |";
  out << "\n|";
  for (size_t i = 0; i < columns.size(); ++i) out << "---|";
  out << "\n";
  for (const nlohmann::json& row : rows) {
    out << "|";
    for (const Column& c : columns) out << " " << Cell(row, c) << " |";
    out << "\n";
  }
  return out.str();
}

double BreakEvenDensity(std::vector<std::pair<double, double>> points) {
  std::sort(points.begin(), points.end(), [](auto& a, auto& b) { return a.first > b.first; });  // densest first
  double prev_d = 1.0, prev_r = 1.0;  // dense itself is ratio 1
  for (const auto& [d, r] : points) {
    if (d >= 1.0) continue;
    if (r < 1.0) {
      if (prev_r <= 1.0 && prev_d >= 1.0) return 1.0;
      // log-log interpolation between (prev_d, prev_r >= 1) and (d, r < 1).
      const double t = std::log(prev_r) / (std::log(prev_r) - std::log(r));
      return std::exp(std::log(prev_d) + t * (std::log(d) - std::log(prev_d)));
    }
    prev_d = d, prev_r = r;
  }
  return 0.0;
}

std::string PeerTable(const nlohmann::json& peer, const nlohmann::json& ours, const std::string& model,
                      const std::string& width) {
  nlohmann::json rows = nlohmann::json::array();
  const nlohmann::json& records = peer.contains("results") ? peer["results"] : peer;
  for (const nlohmann::json& p : records) {
    if (p.value("model", "") != model) continue;
    if (model == "mlp" && p.value("width", "") != width) continue;
    const double d = p.value("density", 1.0);
    const std::string our_method = d >= 1.0 ? "dense" : "static";
    for (const nlohmann::json& o : ours) {
      if (o.value("method", "") != our_method || std::fabs(o.value("density", 0.0) - d) > 1e-9) continue;
      if (!o.contains("step_s") || o["step_s"].is_null()) continue;
      nlohmann::json row;
      row["density"] = d;
      row["torch_mode"] = p.value("method", "");
      row["torch_step_s"] = p.value("step_seconds", 0.0);
      row["torch_threads"] = p.value("threads", 0);
      row["ours_step_s"] = o["step_s"];
      row["speedup"] = p.value("step_seconds", 0.0) / o["step_s"].get<double>();
      rows.push_back(row);
    }
  }
  if (rows.empty()) return "";
  return MarkdownTable({kDensityColumn,
                        {"PyTorch", "torch_mode", 1, -1},
                        {"PyTorch threads", "torch_threads", 1, 0},
                        {"PyTorch step ms", "torch_step_s", 1e3, 2},
                        {"ours step ms", "ours_step_s", 1e3, 2},
                        {"PyTorch / ours", "speedup", 1, 2}},
                       rows);
}

std::string Plot(const nlohmann::json& rows, const std::string& out_dir, const std::string& stem,
                 const std::string& title) {
  // A line break would end a gnuplot command inside the quoted path: refuse it rather than run what follows.
  if ((out_dir + stem + title).find_first_of("\n\r") != std::string::npos) {
    return "--out holds a line break, which a gnuplot script cannot quote; expected a path without one";
  }
  // Data files: per method, density, e2e ratio, kernel-level ratio, theoretical FLOPs ratio, FLOPs, time.
  std::map<std::string, std::ofstream> files;
  double dmin = 1.0;
  for (const nlohmann::json& r : rows) {
    const std::string m = r.value("method", "");
    auto it = files.find(m);
    if (it == files.end()) it = files.emplace(m, std::ofstream(out_dir + "/" + stem + "_" + m + ".dat")).first;
    auto num = [&](const char* key) {
      return r.contains(key) && !r[key].is_null() ? r[key].dump() : std::string("NaN");
    };
    it->second << num("density") << " " << num("step_rel") << " " << num("kernel_rel") << " "
               << num("train_flops_rel") << " " << num("train_flops_step") << " " << num("total_s") << " "
               << num("kernel_total_s") << "\n";
    dmin = std::min(dmin, r.value("density", 1.0));
  }
  for (auto& [m, f] : files) f.close();
  const std::string script_path = out_dir + "/" + stem + ".gp";
  std::ofstream gp(script_path);
  gp << "set terminal pngcairo size 900,620 noenhanced\nset grid\nset key left top\nset logscale xy\n";
  // 1. Time ratio vs density, ideal line y = x.
  gp << "set output " << GnuplotString(out_dir + "/" + stem + "_density.png") << "\n"
     << "set title " << GnuplotString(title + ": training-step time / dense step time") << "\n"
     << "set xlabel 'density (fraction of weights kept)'\nset ylabel 'time relative to dense'\n"
     << "set xrange [" << dmin * 0.7 << ":1.3]\n";
  std::string static_file = files.count("static") ? stem + "_static.dat" : "";
  gp << "plot x title 'ideal: time proportional to density' lw 2 dt 2 lc rgb 'black', 1 title 'dense' lc rgb "
        "'gray'";
  if (!static_file.empty()) {
    const std::string f = out_dir + "/" + static_file;
    const std::string q = GnuplotString(f);
    gp << ", " << q << " using 1:4 with linespoints title 'theoretical training FLOPs (paper count)' lc rgb "
          "'dark-green'"
       << ", " << q << " using 1:2 with linespoints title 'measured: whole step (autograd)' lw 2 lc rgb 'blue'"
       << ", " << q << " using 1:3 with linespoints title 'measured: sum of layer kernels + optimizer' lc rgb "
          "'red'";
  }
  gp << "\n";
  // 2. Measured time vs theoretical FLOPs, one series per method.
  gp << "set output " << GnuplotString(out_dir + "/" + stem + "_flops.png") << "\nunset xrange\n"
     << "set title " << GnuplotString(title + ": measured time per step vs theoretical training FLOPs per step")
     << "\n"
     << "set xlabel 'theoretical training FLOPs per step (paper count)'\n"
     << "set ylabel 'measured seconds per step (topology updates amortised)'\n";
  double dense_flops = 0, dense_time = 0;
  for (const nlohmann::json& r : rows) {
    if (r.value("method", "") != "dense") continue;
    dense_flops = r.value("train_flops_step", 0.0);
    dense_time = r.contains("total_s") && !r["total_s"].is_null() ? r["total_s"].get<double>()
                 : r.contains("kernel_total_s") ? r["kernel_total_s"].get<double>()
                                                : 0.0;
  }
  gp << "plot ";
  if (dense_flops > 0 && dense_time > 0) {
    gp << "x * " << dense_time / dense_flops << " title 'ideal: time proportional to FLOPs (anchored at dense)' "
       << "lw 2 dt 2 lc rgb 'black'";
  } else {
    gp << "NaN notitle";
  }
  for (const auto& [m, f] : files) {
    gp << ", " << GnuplotString(out_dir + "/" + stem + "_" + m + ".dat")
       << " using 5:($6 == $6 ? $6 : $7) with points pt 7 ps 1.5 title " << GnuplotString(m);
  }
  gp << "\n";
  gp.close();
  std::string output;
  const int status = RunGnuplot(script_path, &output);
  if (status != 0) return "gnuplot failed (is gnuplot-nox installed?): " + output;
  return "";
}

std::string StepSection(const nlohmann::json& rows, bool have_step, int steps) {
  std::ostringstream md;
  md << "Training step: theoretical FLOPs (paper count, rigl/plan + models/flops), counted FLOPs (kernels), measured "
        "time (medians of " << steps << " steps; whole step through the model and autograd). update = topology "
        "update cost per update (SET: the update calls; RigL: the update iteration minus a normal step; medians over "
        "the updates after a first one that measures memory), amortised over dT. rel = relative to the dense row of "
        "this run.\n\n";
  std::vector<Column> cols = {kDensityColumn,
                              kMethodColumn,
                              {"train GFLOP/step (theory)", "train_flops_step", 1e-9, 2},
                              {"train rel", "train_flops_rel", 1, 3},
                              {"infer rel", "infer_flops_rel", 1, 3}};
  const std::vector<Column> step_cols = {{"counted GFLOP/step", "counted_flops_step", 1e-9, 2},
                                         {"counted rel", "counted_rel", 1, 3},
                                         {"step ms", "step_s", 1e3, 2},
                                         {"fwd ms", "forward_s", 1e3, 2},
                                         {"bwd ms", "backward_s", 1e3, 2},
                                         {"opt ms", "optimizer_s", 1e3, 2},
                                         {"update ms", "update_s", 1e3, 1},
                                         {"update/step (amortised)", "update_overhead", 1, 4},
                                         {"time rel", "total_rel", 1, 3}};
  if (have_step) {
    cols.insert(cols.end(), step_cols.begin(), step_cols.end());
  } else {
    cols.push_back({"kernel time rel", "kernel_rel", 1, 3});
  }
  cols.push_back({"time rel / FLOPs rel", "time_over_flops", 1, 2});
  cols.push_back({"load", "load", 1, -1});
  md << MarkdownTable(cols, rows) << "\n";
  return md.str();
}

std::string KernelSection(const nlohmann::json& rows) {
  nlohmann::json phase_rows = nlohmann::json::array();
  std::vector<std::string> types;  // the rows' gflops_<type> keys, in order of appearance
  for (const nlohmann::json& r : rows) {
    const std::string m = r.value("method", "");
    if ((m == "static" || m == "dense") && r.contains("kernel_total_s")) phase_rows.push_back(r);
    for (const auto& [k, v] : r.items()) {
      if (k.rfind("gflops_", 0) == 0 && std::find(types.begin(), types.end(), k) == types.end()) types.push_back(k);
    }
  }
  if (phase_rows.empty()) return "";
  std::vector<Column> cols = {kDensityColumn,
                              {"fwd ms", "kernel_forward_s", 1e3, 2},
                              {"dX ms", "kernel_input_grad_s", 1e3, 2},
                              {"dW ms", "kernel_weight_grad_s", 1e3, 2},
                              {"opt ms", "kernel_optimizer_s", 1e3, 2},
                              {"sum ms", "kernel_total_s", 1e3, 2},
                              {"rel", "kernel_rel", 1, 3}};
  if (phase_rows[0].contains("conv_kernel_rel")) {
    cols.push_back({"conv rel", "conv_kernel_rel", 1, 3});
    cols.push_back({"conv FLOPs rel", "conv_flops_rel", 1, 3});
  }
  for (const std::string& t : types) cols.push_back({"GFLOP/s " + t.substr(7), t, 1, 1});
  return "Kernel level: every weight layer's kernels called directly on its real shapes (dense: OpenBLAS sgemm / "
         "im2col+sgemm; sparse: our CSR kernels), phase by phase, plus engine::Sgd on that weight; summed over "
         "layers (the same for static, SET and RigL at one density). GFLOP/s = useful FLOPs (2 nnz x columns) of "
         "fwd + dX + dW / their time.\n\n" +
         MarkdownTable(cols, phase_rows) + "\n";
}

std::string MemorySection(const nlohmann::json& rows) {
  return "Memory from sizes: state = weights (with CSR indices) + gradients + momentum; activations = values the "
         "autograd graph holds after the forward; peak RSS = VmHWM during the configuration minus VmRSS before it. "
         "RigL update extra = VmHWM during the first update's calls minus VmRSS before them, after malloc_trim; "
         "tile = the largest dense-gradient tile scanned; dense grad = the largest layer's full dense gradient (never "
         "built).\n\n" +
         MarkdownTable({kDensityColumn,
                        kMethodColumn,
                        {"state MB", "state_mb", 1, 2},
                        {"activations MB", "activations_mb", 1, 2},
                        {"peak RSS delta MB", "peak_rss_delta_mb", 1, 1},
                        {"RigL update extra MB", "update_peak_extra_mb", 1, 1},
                        {"tile MB", "tile_mb", 1, 1},
                        {"dense grad MB", "dense_grad_mb", 1, 1}},
                       rows) +
         "\n";
}

std::string LayerSection(const nlohmann::json& layer_rows) {
  return "Per layer (kernel level; rel = this layer's time / its dense time in this run):\n\n" +
         MarkdownTable({kDensityColumn,
                        {"layer", "layer", 1, -1},
                        {"type", "type", 1, -1},
                        {"nnz", "nnz", 1, 0},
                        {"fwd ms", "forward_s", 1e3, 3},
                        {"dX ms", "input_grad_s", 1e3, 3},
                        {"dW ms", "weight_grad_s", 1e3, 3},
                        {"opt ms", "optimizer_s", 1e3, 3},
                        {"GFLOP/s", "gflops", 1, 1},
                        {"rel", "rel_dense", 1, 3}},
                       layer_rows);
}

nlohmann::json Summarise(const nlohmann::json& rows, bool have_step) {
  nlohmann::json s;
  std::vector<std::pair<double, double>> e2e, kernel;
  for (const nlohmann::json& r : rows) {
    const std::string m = r.value("method", "");
    if (m != "static" && m != "dense") continue;
    if (r.contains("step_rel")) e2e.emplace_back(r["density"].get<double>(), r["step_rel"].get<double>());
    if (r.contains("kernel_rel")) kernel.emplace_back(r["density"].get<double>(), r["kernel_rel"].get<double>());
  }
  if (have_step) s["break_even_density_step"] = BreakEvenDensity(e2e);
  if (!kernel.empty()) s["break_even_density_kernels"] = BreakEvenDensity(kernel);
  if (const nlohmann::json* r = FindRow(rows, "static", 0.1)) {
    nlohmann::json& at = s["at_density_0.1"];
    at["train_flops_rel"] = (*r)["train_flops_rel"];
    for (const char* key : {"step_rel", "kernel_rel", "time_over_flops", "conv_kernel_rel", "conv_flops_rel",
                            "conv_time_over_flops"}) {
      at[key] = r->value(key, nlohmann::json());  // null where this run did not measure it
    }
  }
  nlohmann::json overhead = nlohmann::json::object();
  for (const nlohmann::json& r : rows) {
    if (r.value("method", "") == "rigl" && r.contains("update_overhead")) {
      char key[32];
      std::snprintf(key, sizeof(key), "%g", r["density"].get<double>());
      overhead[key] = r["update_overhead"];
    }
  }
  if (!overhead.empty()) s["rigl_update_overhead_by_density"] = overhead;
  return s;
}

std::string FormatSummary(const nlohmann::json& s) {
  std::ostringstream out;
  auto num = [](const nlohmann::json& j, const char* key) {
    if (!j.contains(key) || j[key].is_null()) return std::string("-");
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.3f", j[key].get<double>());
    return std::string(buf);
  };
  if (s.contains("break_even_density_step")) {
    out << "- break-even density, whole step (sparse as fast as dense; goal >= 0.3): "
        << num(s, "break_even_density_step") << "\n";
  }
  if (s.contains("break_even_density_kernels")) {
    out << "- break-even density, sum of layer kernels + optimizer: " << num(s, "break_even_density_kernels") << "\n";
  }
  if (s.contains("at_density_0.1")) {
    const nlohmann::json& a = s["at_density_0.1"];
    out << "- at density 0.1: theoretical training FLOPs ratio " << num(a, "train_flops_rel") << ", measured step "
        << "ratio " << num(a, "step_rel") << " (kernels " << num(a, "kernel_rel") << "); measured / theoretical = "
        << num(a, "time_over_flops") << " (goal for the MLP: <= 1.5)\n";
    if (a.contains("conv_kernel_rel") && !a["conv_kernel_rel"].is_null()) {
      out << "- at density 0.1, convolutions only (kernel level): time ratio " << num(a, "conv_kernel_rel")
          << ", FLOPs ratio " << num(a, "conv_flops_rel") << ", measured / theoretical = "
          << num(a, "conv_time_over_flops") << " (goal for WRN-22-2: <= 2.5)\n";
    }
  }
  if (s.contains("rigl_update_overhead_by_density")) {
    out << "- RigL update overhead, amortised over dT, as a fraction of the sparse step (goal <= 0.05):";
    for (const auto& [d, v] : s["rigl_update_overhead_by_density"].items()) {
      char buf[48];
      std::snprintf(buf, sizeof(buf), " %s: %.4f;", d.c_str(), v.get<double>());
      out << buf;
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace flopsbench
