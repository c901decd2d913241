// `bazel run //bench:flops -- [flags]`: for one model and a list of densities and methods, what a training step
// costs in theoretical FLOPs (paper count: rigl/plan + models/flops), counted FLOPs (engine::FlopCounter), measured
// time (the whole step through the model and autograd, and each layer's kernels phase by phase), topology-update
// overhead amortised over ΔT, and memory; all relative to the dense step measured in the same run. Writes
// <out>/<stem>.json and <stem>.md, and with --plot two PNGs. Not a training run: inputs are random.
#include <algorithm>
#include <filesystem>
#include <system_error>
#include <cmath>
#include <functional>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gflags/gflags.h>
#include <nlohmann/json.hpp>

#include "bench/flops/layer_timing.h"
#include "bench/flops/machine.h"
#include "bench/flops/report.h"
#include "bench/flops/resnet50.h"
#include "bench/flops/step_timing.h"
#include "engine/base/check.h"
#include "engine/base/memory.h"
#include "engine/base/parallel.h"
#include "engine/base/rng.h"
#include "engine/sparse/csr.h"
#include "models/architectures.h"
#include "models/flops.h"
#include "rigl/checkpoint.h"
#include "rigl/config.h"
#include "rigl/plan.h"

// Shared with the trainer (defined in //rigl:config): --model, --width, --batch_size, --threads, --distribution,
// --delta_t, --drop_fraction, --seed, --grow_tile_rows, --first_layer_dense.

DEFINE_string(densities, "1,0.5,0.2,0.1,0.05,0.02,0.01", "Densities (fraction of weights kept) to measure");
DEFINE_string(methods, "dense,static,set,rigl", "Methods: dense (at density 1) and static, set, rigl (below 1)");
DEFINE_int32(steps, 5, "Timed steps per configuration (medians reported); also repeats per kernel phase");
DEFINE_int32(warmup, 1, "Untimed warm-up steps per configuration");
DEFINE_int32(update_repeats, 3, "Timed RigL and SET topology updates per configuration (medians)");
DEFINE_string(out, "", "Directory for <stem>.json, <stem>.md (and PNGs with --plot); empty = console only");
DEFINE_bool(plot, false, "Write PNG plots with gnuplot into --out");
DEFINE_bool(smoke, false, "Tiny, fast settings for CI (< 60 s): small widths and batch, 2 densities, 2 steps");
DEFINE_string(peer_json, "", "JSON written by bench/peers/torch_step.py, shown beside our numbers");
DEFINE_bool(kernel_level, true, "Also time every layer's kernels phase by phase");

namespace {

using nlohmann::json;

// The trainer's flags this benchmark shares (declared once, in rigl/config.cc), read at the start of Run().
rigl::TrainConfig g_trainer;
std::string g_width;  // --width as typed (the MLP's hidden widths)

bool Buildable(const std::string& model) {
  return model == "mlp" || model == "lenet5" || model == "wrn22_2" || model == "resnet50";
}

std::string Stem(const std::string& model, const std::string& width) {
  std::string stem = model;
  if (model == "mlp") {
    stem += "_784";
    for (const std::string& w : {width}) stem += "_" + w;
    for (char& c : stem) c = c == ',' ? '_' : c;
    stem += "_10";
  }
  return stem;
}

double Ms(double s) { return s * 1e3; }

// Row lookup: the row with this method at this density, or nullptr.
const json* FindRow(const json& rows, const std::string& method, double density) {
  for (const json& r : rows) {
    if (r.value("method", "") == method && std::fabs(r.value("density", 0.0) - density) < 1e-9) return &r;
  }
  return nullptr;
}

json Summarise(const json& rows, bool have_step) {
  json s;
  std::vector<std::pair<double, double>> e2e, kernel;
  for (const json& r : rows) {
    const std::string m = r.value("method", "");
    if (m != "static" && m != "dense") continue;
    if (r.contains("step_rel")) e2e.emplace_back(r["density"].get<double>(), r["step_rel"].get<double>());
    if (r.contains("kernel_rel")) kernel.emplace_back(r["density"].get<double>(), r["kernel_rel"].get<double>());
  }
  if (have_step) s["break_even_density_step"] = flopsbench::BreakEvenDensity(e2e);
  if (!kernel.empty()) s["break_even_density_kernels"] = flopsbench::BreakEvenDensity(kernel);
  if (const json* r = FindRow(rows, "static", 0.1)) {
    s["at_density_0.1"] = {{"train_flops_rel", (*r)["train_flops_rel"]},
                           {"step_rel", r->value("step_rel", json())},
                           {"kernel_rel", r->value("kernel_rel", json())},
                           {"time_over_flops", r->value("time_over_flops", json())},
                           {"conv_kernel_rel", r->value("conv_kernel_rel", json())},
                           {"conv_flops_rel", r->value("conv_flops_rel", json())},
                           {"conv_time_over_flops", r->value("conv_time_over_flops", json())}};
  }
  json overhead = json::object();
  for (const json& r : rows) {
    if (r.value("method", "") == "rigl" && r.contains("update_overhead")) {
      char key[32];
      std::snprintf(key, sizeof(key), "%g", r["density"].get<double>());
      overhead[key] = r["update_overhead"];
    }
  }
  if (!overhead.empty()) s["rigl_update_overhead_by_density"] = overhead;
  return s;
}

std::string FormatSummary(const json& s) {
  std::ostringstream out;
  auto num = [](const json& j, const char* key) {
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
    const json& a = s["at_density_0.1"];
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

void WriteReport(const flopsbench::MachineInfo& machine, const std::string& command, const std::string& model,
                 const std::string& stem, int64_t batch, const json& rows, const json& layer_rows) {
  using flopsbench::Column;
  const bool have_step = Buildable(model);
  std::ostringstream md;
  md << "### " << stem << ", batch " << batch << ", " << g_trainer.distribution << " sparsity, dT = " << g_trainer.delta_t
     << "\n\n`" << command << "`\n\n```\n" << flopsbench::FormatMachine(machine) << "```\n\n";
  md << "Training step: theoretical FLOPs (paper count, rigl/plan + models/flops), counted FLOPs (kernels), measured "
        "time (medians of " << FLAGS_steps << " steps; whole step through the model and autograd). update = topology "
        "update cost per update (SET: the update calls; RigL: the update iteration minus a normal step), amortised "
        "over dT. rel = relative to the dense row of this run.\n\n";
  std::vector<Column> main_cols = {{"density", "density", 1, 3},
                                   {"method", "method", 1, -1},
                                   {"train GFLOP/step (theory)", "train_flops_step", 1e-9, 2},
                                   {"train rel", "train_flops_rel", 1, 3},
                                   {"infer rel", "infer_flops_rel", 1, 3}};
  if (have_step) {
    for (Column c : std::vector<Column>{{"counted GFLOP/step", "counted_flops_step", 1e-9, 2},
                                        {"counted rel", "counted_rel", 1, 3},
                                        {"step ms", "step_s", 1e3, 2},
                                        {"fwd ms", "forward_s", 1e3, 2},
                                        {"bwd ms", "backward_s", 1e3, 2},
                                        {"opt ms", "optimizer_s", 1e3, 2},
                                        {"update ms", "update_s", 1e3, 1},
                                        {"update/step (amortised)", "update_overhead", 1, 4},
                                        {"time rel", "total_rel", 1, 3},
                                        {"time rel / FLOPs rel", "time_over_flops", 1, 2}}) {
      main_cols.push_back(c);
    }
  } else {
    main_cols.push_back({"kernel time rel", "kernel_rel", 1, 3});
    main_cols.push_back({"time rel / FLOPs rel", "time_over_flops", 1, 2});
  }
  main_cols.push_back({"load", "load", 1, -1});
  md << flopsbench::MarkdownTable(main_cols, rows) << "\n";

  json phase_rows = json::array();
  std::vector<Column> phase_cols = {{"density", "density", 1, 3},   {"fwd ms", "kernel_forward_s", 1e3, 2},
                                    {"dX ms", "kernel_input_grad_s", 1e3, 2}, {"dW ms", "kernel_weight_grad_s", 1e3, 2},
                                    {"opt ms", "kernel_optimizer_s", 1e3, 2}, {"sum ms", "kernel_total_s", 1e3, 2},
                                    {"rel", "kernel_rel", 1, 3}};
  std::vector<std::string> types;
  for (const json& r : rows) {
    const std::string m = r.value("method", "");
    if ((m == "static" || m == "dense") && r.contains("kernel_total_s")) phase_rows.push_back(r);
    for (const auto& [k, v] : r.items()) {
      if (k.rfind("gflops_", 0) == 0 && std::find(types.begin(), types.end(), k) == types.end()) types.push_back(k);
    }
  }
  if (!phase_rows.empty()) {
    if (phase_rows[0].contains("conv_kernel_rel")) {
      phase_cols.push_back({"conv rel", "conv_kernel_rel", 1, 3});
      phase_cols.push_back({"conv FLOPs rel", "conv_flops_rel", 1, 3});
    }
    for (const std::string& t : types) phase_cols.push_back({"GFLOP/s " + t.substr(7), t, 1, 1});
    md << "Kernel level: every weight layer's kernels called directly on its real shapes (dense: OpenBLAS sgemm / "
          "im2col+sgemm; sparse: our CSR kernels), phase by phase, plus engine::Sgd on that weight; summed over "
          "layers (the same for static, SET and RigL at one density). GFLOP/s = useful FLOPs (2 nnz x columns) of "
          "fwd + dX + dW / their time.\n\n"
       << flopsbench::MarkdownTable(phase_cols, phase_rows) << "\n";
  }
  if (have_step) {
    md << "Memory from sizes: state = weights (with CSR indices) + gradients + momentum; activations = values the "
          "autograd graph holds after the forward; peak RSS = VmHWM during the configuration minus VmRSS before it. "
          "RigL update extra = VmHWM during the update calls minus VmRSS before them; tile = the largest "
          "dense-gradient tile scanned; dense grad = the largest layer's full dense gradient (never built).\n\n"
       << flopsbench::MarkdownTable({{"density", "density", 1, 3},
                                     {"method", "method", 1, -1},
                                     {"state MB", "state_mb", 1, 2},
                                     {"activations MB", "activations_mb", 1, 2},
                                     {"peak RSS delta MB", "peak_rss_delta_mb", 1, 1},
                                     {"RigL update extra MB", "update_peak_extra_mb", 1, 1},
                                     {"tile MB", "tile_mb", 1, 1},
                                     {"dense grad MB", "dense_grad_mb", 1, 1}},
                                    rows)
       << "\n";
  }
  const json summary = Summarise(rows, have_step);
  md << "Summary:\n\n" << FormatSummary(summary) << "\n";
  if (!FLAGS_peer_json.empty()) {
    std::ifstream in(FLAGS_peer_json);
    ENGINE_CHECK(in.good(), "--peer_json=", FLAGS_peer_json, ": cannot open; HINT: run bench/peers/torch_step.py");
    const json peer = json::parse(in);
    const std::string table = flopsbench::PeerTable(peer, rows, model, g_width);
    md << "PyTorch (" << FLAGS_peer_json << ") beside ours, same model and batch; masked = dense weights times a "
          "dense mask:\n\n" << (table.empty() ? "(no matching PyTorch rows)\n" : table) << "\n";
  }
  std::printf("\n%s", md.str().c_str());
  std::ostringstream layers_md;
  layers_md << "Per layer (kernel level; rel = this layer's time / its dense time in this run):\n\n"
            << flopsbench::MarkdownTable({{"density", "density", 1, 3},
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
  if (FLAGS_out.empty()) return;
  const json doc = {{"command", command}, {"machine", flopsbench::ToJson(machine)},
                    {"model", model},     {"width", model == "mlp" ? g_width : ""},
                    {"batch_size", batch}, {"distribution", g_trainer.distribution},
                    {"delta_t", g_trainer.delta_t}, {"steps", FLAGS_steps},
                    {"rows", rows},       {"layers", layer_rows},
                    {"summary", summary}};
  const std::string base = FLAGS_out + "/" + stem;
  std::string md_text = md.str() + "\n" + layers_md.str();
  if (FLAGS_plot) md_text += "\nPlots: `" + stem + "_density.png`, `" + stem + "_flops.png`\n";
  for (const auto& [path, text] : {std::pair<std::string, std::string>{base + ".json", doc.dump(1)},
                                   {base + ".md", md_text}}) {
    rigl::WriteFileAtomically(path, text);  // path.tmp, checked, then renamed
  }
  if (FLAGS_plot) {
    const std::string err = flopsbench::Plot(rows, FLAGS_out, stem, stem);
    ENGINE_CHECK(err.empty(), "--plot: ", err);
  }
  std::printf("wrote %s.json, %s.md%s\n", base.c_str(), base.c_str(), FLAGS_plot ? " and PNGs" : "");
}

int Run(const std::string& command) {
  g_trainer = rigl::ReadFlags();
  gflags::GetCommandLineOption("width", &g_width);
  const std::string model = g_trainer.model;
  ENGINE_CHECK(model == "mlp" || model == "lenet5" || model == "wrn22_2" || model == "resnet50" ||
                   model == "mobilenet_v1",
               "--model=", model, ": unknown; expected mlp | lenet5 | wrn22_2 | resnet50 | mobilenet_v1");
  ENGINE_CHECK(FLAGS_steps >= 1, "--steps=", FLAGS_steps, ": expected >= 1");
  ENGINE_CHECK(g_trainer.batch_size >= 1, "--batch_size=", g_trainer.batch_size, ": expected >= 1");
  std::vector<double> densities = rigl::ParseDoubleList("--densities", FLAGS_densities);
  for (double d : densities) ENGINE_CHECK(d > 0 && d <= 1, "--densities: ", d, " given; expected 0 < d <= 1");
  std::sort(densities.begin(), densities.end(), std::greater<double>());
  densities.erase(std::unique(densities.begin(), densities.end()), densities.end());
  if (densities.front() < 1.0) densities.insert(densities.begin(), 1.0);  // the dense baseline is always measured
  std::vector<std::string> methods;
  {
    std::stringstream ss(FLAGS_methods);
    for (std::string m; std::getline(ss, m, ',');) {
      ENGINE_CHECK(m == "dense" || m == "static" || m == "set" || m == "rigl", "--methods: '", m,
                   "' given; expected dense | static | set | rigl");
      methods.push_back(m);
    }
  }
  if (FLAGS_smoke) {
    if (model == "mlp") g_width = "64,32";
    // The ImageNet models stay 224x224, so their smoke run takes minutes (CI smoke-runs the default, the MLP).
    g_trainer.batch_size = model == "wrn22_2" ? 2 : (model == "resnet50" || model == "mobilenet_v1") ? 1 : 16;
    densities = {1.0, 0.1};
    FLAGS_steps = 2, FLAGS_warmup = 1, FLAGS_update_repeats = 1;
  }
  // Under `bazel run` the working directory is the runfiles tree: resolve relative paths against the caller's.
  const char* caller_dir = std::getenv("BUILD_WORKING_DIRECTORY");
  for (std::string* path : {&FLAGS_out, &FLAGS_peer_json}) {
    if (caller_dir != nullptr && !path->empty() && (*path)[0] != '/') *path = std::string(caller_dir) + "/" + *path;
  }
  if (!FLAGS_out.empty()) {  // create --out and prove it writable before measuring, not after
    std::error_code ec;
    std::filesystem::create_directories(FLAGS_out, ec);
    ENGINE_CHECK(!ec && std::filesystem::is_directory(FLAGS_out, ec), "--out=", FLAGS_out, ": cannot create (",
                 ec ? ec.message() : "a file of that name exists", "); expected a writable directory");
    rigl::WriteFileAtomically(FLAGS_out + "/.write_test", "");
    std::filesystem::remove(FLAGS_out + "/.write_test", ec);
  }
  if (!FLAGS_peer_json.empty()) {  // fail before measuring, not after
    std::ifstream peer(FLAGS_peer_json);
    ENGINE_CHECK(peer.good(), "--peer_json=", FLAGS_peer_json, ": cannot open; HINT: run bench/peers/torch_step.py");
  }
  const int64_t batch = g_trainer.batch_size;
  const std::string stem = Stem(model, g_width) + (FLAGS_smoke ? "_smoke" : "");
  engine::ReuseFreedMemory();  // as the trainer does
  engine::SetNumThreads(g_trainer.threads);
  engine::EnableFlushToZeroOnAllThreads();
  const flopsbench::MachineInfo machine = flopsbench::DescribeMachine();
  std::printf("%s", flopsbench::FormatMachine(machine).c_str());
  std::printf("command:       %s\n", command.c_str());
  std::printf("model %s%s, batch %lld, distribution %s, dT %lld, drop fraction %g, %d timed steps\n", model.c_str(),
              model == "mlp" ? (" 784-" + g_width + "-10").c_str() : "", static_cast<long long>(batch),
              g_trainer.distribution.c_str(), static_cast<long long>(g_trainer.delta_t), g_trainer.drop_fraction, FLAGS_steps);
  if (!Buildable(model)) {
    std::printf("note: %s is timed at kernel level only (per layer: forward, input gradient, weight gradient, "
                "optimizer); the models package does not build it end to end%s.\n",
                model.c_str(), model == "mobilenet_v1" ? "; depthwise convs are skipped (no depthwise kernel)" : "");
  }

  json rows = json::array(), layer_rows = json::array();
  double dense_step = 0, dense_kernel = 0, dense_counted = 0, dense_conv_kernel = 0;
  std::map<std::string, double> dense_layer_total;
  for (const double d : densities) {
    rigl::TrainConfig c;
    c.model = model;
    if (model == "mlp") c.width = rigl::ParseIntList("--width", g_width);
    c.sparsity = 1.0 - d;
    c.distribution = g_trainer.distribution;
    c.first_layer_dense = g_trainer.first_layer_dense;
    c.delta_t = g_trainer.delta_t;
    c.seed = g_trainer.seed;
    c.method = d >= 1.0 ? rigl::Method::kDense : rigl::Method::kStatic;
    rigl::SparsityPlan plan = rigl::MakeSparsityPlan(c);
    if (model == "wrn22_2") {  // CIFAR-sized input: 32x32x3 (the trainer's variant is 28x28x1)
      plan.layers = models::Wrn22x2Cifar();
      plan.network.in_channels = 3;
      plan.network.input_hw = 32;
    }
    if (model == "resnet50") {  // ImageNet-sized input
      plan.network.in_channels = 3;
      plan.network.input_hw = 224;
      plan.network.num_classes = 1000;
    }
    const std::string load = flopsbench::LoadNow();
    std::printf("\n== density %g: measuring (load %s)\n", d, load.c_str());
    std::fflush(stdout);

    flopsbench::StepResult sr;
    const bool have_step = Buildable(model);
    if (have_step) {
      flopsbench::StepOptions so;
      so.batch = batch, so.warmup = FLAGS_warmup, so.steps = FLAGS_steps;
      so.update_repeats = d < 1.0 ? FLAGS_update_repeats : 0;
      so.drop_fraction = static_cast<float>(g_trainer.drop_fraction), so.grow_tile_rows = g_trainer.grow_tile_rows;
      so.seed = g_trainer.seed;
      sr = flopsbench::TimeTrainingStep(plan.network,
                                        model == "resnet50" ? flopsbench::BuildResNet50 : models::BuildNetwork, so);
    }

    // Kernel level, per layer, with the model's own sparse patterns (or random ones of the plan's nnz).
    std::vector<flopsbench::LayerTiming> lt;
    double k_fwd = 0, k_dx = 0, k_dw = 0, k_opt = 0, k_conv = 0;
    std::map<std::string, std::pair<double, double>> by_type;  // type -> (useful FLOPs, seconds)
    if (FLAGS_kernel_level) {
      for (const flopsbench::LayerShape& shape : flopsbench::RealLayerShapes(model, plan.layers)) {
        size_t l = 0;
        while (l < plan.layers.size() && plan.layers[l].name != shape.name) ++l;
        const engine::CsrMatrix* pattern = nullptr;
        engine::CsrMatrix own;
        if (have_step) {
          const auto it = sr.patterns.find(shape.name);
          if (it != sr.patterns.end()) pattern = &it->second;
        } else if (plan.sparsities[l] > 0) {
          engine::Rng rng = engine::Rng::Stream(g_trainer.seed, l + 1);
          own = engine::CsrMatrix::RandomPattern(shape.out, shape.in * shape.kernel * shape.kernel,
                                                 plan.target_nnz.at(shape.name), rng);
          for (float& v : own.mutable_values()) v = rng.UniformFloat(-0.1f, 0.1f);
          pattern = &own;
        }
        const flopsbench::LayerTiming t = flopsbench::TimeLayer(shape, pattern, batch, FLAGS_steps, g_trainer.seed);
        k_fwd += t.forward, k_dx += t.input_grad, k_dw += t.weight_grad, k_opt += t.optimizer;
        if (shape.conv) k_conv += t.total();
        auto& tp = by_type[t.type];
        tp.first += t.forward_flops + t.input_grad_flops + t.weight_grad_flops;
        tp.second += t.forward + t.input_grad + t.weight_grad;
        if (d >= 1.0) dense_layer_total[t.name] = t.total();
        json lr = {{"density", d},        {"layer", t.name},
                   {"type", t.type},      {"nnz", t.nnz},
                   {"layer_density", static_cast<double>(t.nnz) / t.weights},
                   {"forward_s", t.forward}, {"input_grad_s", t.input_grad},
                   {"weight_grad_s", t.weight_grad}, {"optimizer_s", t.optimizer},
                   {"total_s", t.total()},
                   {"gflops", (t.forward_flops + t.input_grad_flops + t.weight_grad_flops) * 1e-9 /
                                  (t.forward + t.input_grad + t.weight_grad)}};
        if (dense_layer_total.count(t.name)) lr["rel_dense"] = t.total() / dense_layer_total[t.name];
        layer_rows.push_back(lr);
      }
    }
    const double k_total = k_fwd + k_dx + k_dw + k_opt;
    if (d >= 1.0) dense_step = sr.step, dense_kernel = k_total, dense_counted = sr.counted_flops,
                  dense_conv_kernel = k_conv;
    // Theoretical FLOPs of the conv layers alone (for the conv-kernel ratio).
    double conv_flops = 0, conv_flops_dense = 0;
    for (size_t l = 0; l < plan.layers.size(); ++l) {
      if (plan.layers[l].kind != models::LayerSpec::kConv) continue;
      conv_flops += models::LayerInferenceFlops(plan.layers[l], plan.sparsities[l]);
      conv_flops_dense += models::LayerInferenceFlops(plan.layers[l], 0.0);
    }

    for (const std::string& m : methods) {
      if ((d >= 1.0) != (m == "dense")) continue;
      c.method = rigl::ParseMethod(m);
      const rigl::TrainFlops tf = rigl::TrainingFlopsPerSample(c, plan, {});
      json r;
      r["density"] = d;
      r["method"] = m;
      r["load"] = load;
      r["train_flops_step"] = tf.method * batch;
      r["train_flops_rel"] = tf.method / tf.dense;
      r["infer_flops_sample"] = models::InferenceFlops(plan.layers, plan.sparsities);
      r["infer_flops_rel"] = r["infer_flops_sample"].get<double>() / models::DenseInferenceFlops(plan.layers);
      if (have_step) {
        r["counted_flops_step"] = sr.counted_flops;
        r["counted_rel"] = sr.counted_flops / dense_counted;
        r["step_s"] = sr.step, r["forward_s"] = sr.forward, r["backward_s"] = sr.backward;
        r["optimizer_s"] = sr.optimizer;
        r["step_rel"] = sr.step / dense_step;
        double update = 0;
        if (m == "set") update = sr.set_update;
        if (m == "rigl") {
          update = std::max(0.0, sr.rigl_iteration - sr.step);  // the update iteration's extra cost
          r["rigl_update_calls_s"] = sr.rigl_update;
          r["rigl_update_iteration_s"] = sr.rigl_iteration;
        }
        r["update_s"] = update;
        r["update_amortised_s"] = update / static_cast<double>(g_trainer.delta_t);
        r["update_overhead"] = update / static_cast<double>(g_trainer.delta_t) / sr.step;
        r["total_s"] = sr.step + update / static_cast<double>(g_trainer.delta_t);
        r["total_rel"] = r["total_s"].get<double>() / dense_step;
        r["time_over_flops"] = r["total_rel"].get<double>() / r["train_flops_rel"].get<double>();
        r["state_mb"] = sr.state_bytes / 1e6;
        r["activations_mb"] = sr.activation_bytes / 1e6;
        r["peak_rss_delta_mb"] = sr.peak_rss_delta / 1e6;
        if (m == "rigl") {
          r["update_peak_extra_mb"] = sr.rigl_update_peak_extra / 1e6;
          r["tile_mb"] = sr.largest_tile_bytes / 1e6;
          r["dense_grad_mb"] = sr.largest_dense_grad_bytes / 1e6;
        }
      }
      if (FLAGS_kernel_level) {
        r["kernel_forward_s"] = k_fwd, r["kernel_input_grad_s"] = k_dx, r["kernel_weight_grad_s"] = k_dw;
        r["kernel_optimizer_s"] = k_opt, r["kernel_total_s"] = k_total, r["kernel_rel"] = k_total / dense_kernel;
        if (!have_step) r["time_over_flops"] = r["kernel_rel"].get<double>() / r["train_flops_rel"].get<double>();
        if (conv_flops_dense > 0) {
          r["conv_kernel_rel"] = k_conv / dense_conv_kernel;
          r["conv_flops_rel"] = conv_flops / conv_flops_dense;
          r["conv_time_over_flops"] = r["conv_kernel_rel"].get<double>() / r["conv_flops_rel"].get<double>();
        }
        for (const auto& [type, fs] : by_type) r["gflops_" + type] = fs.first * 1e-9 / fs.second;
      }
      rows.push_back(r);
    }
    std::printf("   step %.2f ms (rel %.3f), kernel sum %.2f ms (rel %.3f), load now %s\n", Ms(sr.step),
                dense_step > 0 ? sr.step / dense_step : 0.0, Ms(k_total), dense_kernel > 0 ? k_total / dense_kernel : 0,
                flopsbench::LoadNow().c_str());
  }
  WriteReport(machine, command, model, stem, batch, rows, layer_rows);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetCommandLineOptionWithMode("width", "4096,4096", gflags::SET_FLAGS_DEFAULT);
  gflags::SetCommandLineOptionWithMode("distribution", "uniform", gflags::SET_FLAGS_DEFAULT);
  gflags::SetUsageMessage("bazel run //bench:flops -- --model=mlp|lenet5|wrn22_2|resnet50|mobilenet_v1 [flags]");
  gflags::ParseCommandLineFlags(&argc, &argv, /*remove_flags=*/false);
  std::string command = "bazel run //bench:flops --";
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
  try {
    return Run(command);
  } catch (const engine::Error& e) {
    std::fprintf(stderr, "flops: %s\n", engine::Describe(e).c_str());
    return 1;
  }
}
