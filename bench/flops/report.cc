// Markdown tables, break-even density, peer comparison and gnuplot plots (see report.h).
#include "bench/flops/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

namespace flopsbench {
namespace {

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
  return MarkdownTable({{"density", "density", 1, 3},
                        {"PyTorch", "torch_mode", 1, -1},
                        {"PyTorch threads", "torch_threads", 1, 0},
                        {"PyTorch step ms", "torch_step_s", 1e3, 2},
                        {"ours step ms", "ours_step_s", 1e3, 2},
                        {"PyTorch / ours", "speedup", 1, 2}},
                       rows);
}

std::string Plot(const nlohmann::json& rows, const std::string& out_dir, const std::string& stem,
                 const std::string& title) {
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
  gp << "set output '" << out_dir << "/" << stem << "_density.png'\n"
     << "set title '" << title << ": training-step time / dense step time'\n"
     << "set xlabel 'density (fraction of weights kept)'\nset ylabel 'time relative to dense'\n"
     << "set xrange [" << dmin * 0.7 << ":1.3]\n";
  std::string static_file = files.count("static") ? stem + "_static.dat" : "";
  gp << "plot x title 'ideal: time proportional to density' lw 2 dt 2 lc rgb 'black', 1 title 'dense' lc rgb "
        "'gray'";
  if (!static_file.empty()) {
    const std::string f = out_dir + "/" + static_file;
    gp << ", '" << f << "' using 1:4 with linespoints title 'theoretical training FLOPs (paper count)' lc rgb "
          "'dark-green'"
       << ", '" << f << "' using 1:2 with linespoints title 'measured: whole step (autograd)' lw 2 lc rgb 'blue'"
       << ", '" << f << "' using 1:3 with linespoints title 'measured: sum of layer kernels + optimizer' lc rgb "
          "'red'";
  }
  gp << "\n";
  // 2. Measured time vs theoretical FLOPs, one series per method.
  gp << "set output '" << out_dir << "/" << stem << "_flops.png'\nunset xrange\n"
     << "set title '" << title << ": measured time per step vs theoretical training FLOPs per step'\n"
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
    gp << ", '" << out_dir << "/" << stem << "_" << m << ".dat' using 5:($6 == $6 ? $6 : $7) with points pt 7 ps 1.5 "
       << "title '" << m << "'";
  }
  gp << "\n";
  gp.close();
  const std::string cmd = "gnuplot '" + script_path + "' 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return "could not run gnuplot";
  std::string output;
  char buf[256];
  while (std::fgets(buf, sizeof(buf), pipe) != nullptr) output += buf;
  const int status = pclose(pipe);
  if (status != 0) return "gnuplot failed (is gnuplot-nox installed?): " + output;
  return "";
}

}  // namespace flopsbench
