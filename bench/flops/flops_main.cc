// `bazel run //bench:flops -- [flags]`: for one model and a list of densities and methods, what a training step
// costs in theoretical FLOPs (paper count: rigl/plan + models/flops), counted FLOPs (engine::FlopCounter), measured
// time (the whole step through the model and autograd, and each layer's kernels phase by phase), topology-update
// overhead amortised over ΔT, and memory; all relative to the dense step measured in the same run. Writes
// <out>/<stem>.json and <stem>.md, and with --plot two PNGs. Not a training run: inputs are random.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <gflags/gflags.h>
#include <nlohmann/json.hpp>

#include "bench/flops/bench_model.h"
#include "bench/flops/layer_timing.h"
#include "bench/flops/machine.h"
#include "bench/flops/report.h"
#include "bench/flops/step_timing.h"
#include "engine/base/check.h"
#include "engine/base/memory.h"
#include "engine/base/parallel.h"
#include "engine/base/rng.h"
#include "engine/sparse/csr.h"
#include "models/flops.h"
#include "models/networks.h"
#include "rigl/checkpoint.h"
#include "rigl/config.h"
#include "rigl/method.h"
#include "rigl/plan.h"

// Shared with the trainer (defined in //rigl:config): --model, --width, --batch_size, --threads, --distribution,
// --delta_t, --drop_fraction, --seed, --grow_tile_rows, --first_layer_dense.

DEFINE_string(densities, "1,0.5,0.2,0.1,0.05,0.02,0.01", "Densities (fraction of weights kept) to measure");
DEFINE_string(methods, "", "Methods to time, comma-separated: the dense one at density 1, the sparse ones below 1");
DEFINE_int32(steps, 5, "Timed steps per configuration (medians reported); also repeats per kernel phase");
DEFINE_int32(warmup, 1, "Untimed warm-up steps per configuration");
DEFINE_int32(update_repeats, 3,
             "Timed RigL and SET topology updates per configuration (medians), after one more that measures the "
             "update's peak memory");
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

// The methods this bench times, in rigl's method table: the dense one at density 1, the sparse ones below it.
constexpr rigl::Method kTimedMethods[] = {rigl::Method::kDense, rigl::Method::kStatic, rigl::Method::kSet,
                                          rigl::Method::kRigl};
constexpr char kSmokeWidth[] = "64,32";

bool IsSparse(rigl::Method m) { return rigl::Info(m).sparse_storage; }
bool IsDense(rigl::Method m) { return !IsSparse(m); }
bool MeasuredAt(rigl::Method m, double density) { return IsSparse(m) == (density < 1.0); }

// The timed methods' names joined by sep (only those `keep` accepts, when given).
std::string TimedMethodNames(const char* sep, bool (*keep)(rigl::Method) = nullptr) {
  std::string names;
  for (rigl::Method m : kTimedMethods) {
    if (keep == nullptr || keep(m)) names += (names.empty() ? "" : sep) + std::string(rigl::MethodName(m));
  }
  return names;
}

// What one run measures, from the flags (after --smoke). The scalar flags (--steps, --warmup, --update_repeats,
// --kernel_level, --out, --plot, --peer_json) are read where they are used.
struct Options {
  std::string command;             // the command line, for the report
  flopsbench::BenchModel model;
  std::vector<double> densities;   // densest first, starting with 1 (the dense baseline is always measured)
  std::vector<rigl::Method> methods;
  std::string stem;                // <out>/<stem>.json and .md
};

// "784-64,32-10" for the MLP (in, hidden as typed, out), "" for the others.
std::string MlpShape(const flopsbench::BenchModel& model) {
  if (model.name != "mlp") return "";
  return std::to_string(model.layers.front().in_channels) + "-" + g_width + "-" +
         std::to_string(model.layers.back().out_channels);
}

std::vector<double> ParseDensities(const std::string& text) {
  std::vector<double> densities = rigl::ParseDoubleList("--densities", text);
  for (double d : densities) ENGINE_CHECK(d > 0 && d <= 1, "--densities: ", d, " given; expected 0 < d <= 1");
  std::sort(densities.begin(), densities.end(), std::greater<double>());
  densities.erase(std::unique(densities.begin(), densities.end()), densities.end());
  if (densities.front() < 1.0) densities.insert(densities.begin(), 1.0);  // the dense baseline is always measured
  return densities;
}

std::vector<rigl::Method> ParseMethods(const std::string& text) {
  std::vector<rigl::Method> methods;
  std::stringstream list(text);
  for (std::string name; std::getline(list, name, ',');) {
    const auto* it = std::find_if(std::begin(kTimedMethods), std::end(kTimedMethods),
                                  [&](rigl::Method m) { return name == rigl::MethodName(m); });
    ENGINE_CHECK(it != std::end(kTimedMethods), "--methods: '", name, "' given; expected ", TimedMethodNames(" | "),
                 " (this bench measures ", TimedMethodNames(", ", IsDense), " at density 1 and ",
                 TimedMethodNames(", ", IsSparse), " below it)");
    methods.push_back(*it);
  }
  return methods;
}

// Under `bazel run` the working directory is the runfiles tree: relative paths are the caller's. Both files are
// checked before measuring, not after: --out is created and proved writable, --peer_json must open.
void ResolveOutputs() {
  const char* caller_dir = std::getenv("BUILD_WORKING_DIRECTORY");
  for (std::string* path : {&FLAGS_out, &FLAGS_peer_json}) {
    if (caller_dir != nullptr && !path->empty() && (*path)[0] != '/') *path = std::string(caller_dir) + "/" + *path;
  }
  if (!FLAGS_out.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(FLAGS_out, ec);
    ENGINE_CHECK(!ec && std::filesystem::is_directory(FLAGS_out, ec), "--out=", FLAGS_out, ": cannot create (",
                 ec ? ec.message() : "a file of that name exists", "); expected a writable directory");
    rigl::WriteFileAtomically(FLAGS_out + "/.write_test", "");
    std::filesystem::remove(FLAGS_out + "/.write_test", ec);
  }
  if (!FLAGS_peer_json.empty()) {
    std::ifstream peer(FLAGS_peer_json);
    ENGINE_CHECK(peer.good(), "--peer_json=", FLAGS_peer_json, ": cannot open; HINT: run bench/peers/torch_step.py");
  }
}

Options ReadOptions(const std::string& command) {
  g_trainer = rigl::ReadFlags();
  gflags::GetCommandLineOption("width", &g_width);
  if (FLAGS_smoke && g_trainer.model == "mlp") {
    g_width = kSmokeWidth;
    g_trainer.width = rigl::ParseIntList("--width", g_width);
  }
  Options o;
  o.command = command;
  o.model = flopsbench::DescribeBenchModel(g_trainer.model, g_trainer.width);
  ENGINE_CHECK(FLAGS_steps >= 1, "--steps=", FLAGS_steps, ": expected >= 1");
  ENGINE_CHECK(g_trainer.batch_size >= 1, "--batch_size=", g_trainer.batch_size, ": expected >= 1");
  o.densities = ParseDensities(FLAGS_densities);
  o.methods = ParseMethods(FLAGS_methods);
  if (FLAGS_smoke) {
    g_trainer.batch_size = o.model.smoke_batch;
    o.densities = {1.0, 0.1};
    FLAGS_steps = 2, FLAGS_warmup = 1, FLAGS_update_repeats = 1;
  }
  ResolveOutputs();
  std::string shape = MlpShape(o.model);
  std::replace_if(shape.begin(), shape.end(), [](char c) { return c == '-' || c == ','; }, '_');
  o.stem = o.model.name + (shape.empty() ? "" : "_" + shape) +
           (g_trainer.block == "1x1" ? "" : "_block" + g_trainer.block) + (FLAGS_smoke ? "_smoke" : "");
  return o;
}

// The engine's process-wide settings, as the trainer makes them.
void StartEngine() {
  engine::ReuseFreedMemory();
  engine::SetNumThreads(g_trainer.threads);
  engine::EnableFlushToZeroOnAllThreads();
}

// What this run is, on the console, before any number.
void PrintBanner(const Options& o, const flopsbench::MachineInfo& machine) {
  std::printf("%s", flopsbench::FormatMachine(machine).c_str());
  std::printf("command:       %s\n", o.command.c_str());
  const std::string shape = MlpShape(o.model);
  std::printf("model %s%s, batch %lld, distribution %s, block %s, dT %lld, drop fraction %g, %d timed steps\n",
              o.model.name.c_str(), shape.empty() ? "" : (" " + shape).c_str(),
              static_cast<long long>(g_trainer.batch_size), g_trainer.distribution.c_str(), g_trainer.block.c_str(),
              static_cast<long long>(g_trainer.delta_t), g_trainer.drop_fraction, FLAGS_steps);
  if (!o.model.buildable()) {
    std::printf("note: %s is timed at kernel level only (per layer: forward, input gradient, weight gradient, "
                "optimizer); the models package does not build it end to end.\n",
                o.model.name.c_str());
  }
  if (g_trainer.block != "1x1" && FLAGS_kernel_level) {
    std::printf("note: --block=%s: the per-layer kernel table times CSR and dense kernels only, so it is left out; "
                "the whole step is timed with the blocked layers\n", g_trainer.block.c_str());
  }
}

// Everything measured so far. Densities run densest first, so the dense baseline is known before any sparse row.
struct Results {
  json rows = json::array(), layer_rows = json::array();
  double dense_step = 0, dense_kernel = 0, dense_counted = 0, dense_conv_kernel = 0;
  std::map<std::string, double> dense_layer_total;  // layer name -> its dense kernel time
};

// One configuration's kernel-level times, summed over its layers.
struct KernelSums {
  double forward = 0, input_grad = 0, weight_grad = 0, optimizer = 0;
  double conv = 0;                                            // the conv layers' totals
  std::map<std::string, std::pair<double, double>> by_type;  // layer type -> (useful FLOPs, seconds)
  double total() const { return forward + input_grad + weight_grad + optimizer; }
};

flopsbench::StepResult TimeStep(const rigl::SparsityPlan& plan, double density, const Options& o) {
  flopsbench::StepOptions so;
  so.batch = g_trainer.batch_size, so.warmup = FLAGS_warmup, so.steps = FLAGS_steps;
  so.update_repeats = density < 1.0 ? FLAGS_update_repeats : 0;
  so.drop_fraction = static_cast<float>(g_trainer.drop_fraction), so.grow_tile_rows = g_trainer.grow_tile_rows;
  so.seed = g_trainer.seed;
  return flopsbench::TimeTrainingStep(plan.network, o.model.build, so);
}

// The sparse weight a layer's kernels run on: the pattern the step trained when the model was built, else a random
// one of the plan's nnz (into *own); nullptr for a dense layer.
const engine::CsrMatrix* LayerPattern(const flopsbench::LayerShape& shape, const rigl::SparsityPlan& plan,
                                      const flopsbench::StepResult& step, bool have_step, engine::CsrMatrix* own) {
  if (have_step) {
    const auto it = step.patterns.find(shape.name);
    return it != step.patterns.end() ? &it->second : nullptr;
  }
  size_t l = 0;
  while (l < plan.layers.size() && plan.layers[l].name != shape.name) ++l;
  if (plan.sparsities[l] <= 0) return nullptr;
  engine::Rng rng = engine::Rng::Stream(g_trainer.seed, l + 1);
  *own = engine::CsrMatrix::RandomPattern(shape.out, shape.in * shape.kernel * shape.kernel,
                                          plan.target_nnz.at(shape.name), rng);
  for (float& v : own->mutable_values()) v = rng.UniformFloat(-0.1f, 0.1f);
  return own;
}

json LayerRow(const flopsbench::LayerTiming& t, double density, const Results& res) {
  json r = {{"density", density},         {"layer", t.name},
            {"type", t.type},             {"nnz", t.nnz},
            {"layer_density", static_cast<double>(t.nnz) / t.weights},
            {"forward_s", t.forward},     {"input_grad_s", t.input_grad},
            {"weight_grad_s", t.weight_grad}, {"optimizer_s", t.optimizer},
            {"total_s", t.total()},       {"gflops", t.product_flops() * 1e-9 / t.product_seconds()}};
  const auto dense = res.dense_layer_total.find(t.name);
  if (dense != res.dense_layer_total.end()) r["rel_dense"] = t.total() / dense->second;
  return r;
}

// Kernel level, per layer, with the model's own sparse patterns (or random ones of the plan's nnz).
KernelSums TimeKernels(const rigl::SparsityPlan& plan, double density, const flopsbench::StepResult& step,
                       const Options& o, Results* res) {
  KernelSums k;
  for (const flopsbench::LayerShape& shape :
       flopsbench::RealLayerShapes(o.model.name, plan.layers, o.model.network.input_hw)) {
    engine::CsrMatrix own;
    const engine::CsrMatrix* pattern = LayerPattern(shape, plan, step, o.model.buildable(), &own);
    const flopsbench::LayerTiming t =
        flopsbench::TimeLayer(shape, pattern, g_trainer.batch_size, FLAGS_steps, g_trainer.seed);
    k.forward += t.forward, k.input_grad += t.input_grad, k.weight_grad += t.weight_grad, k.optimizer += t.optimizer;
    if (shape.conv) k.conv += t.total();
    auto& [flops, seconds] = k.by_type[t.type];
    flops += t.product_flops();
    seconds += t.product_seconds();
    if (density >= 1.0) res->dense_layer_total[t.name] = t.total();
    res->layer_rows.push_back(LayerRow(t, density, *res));
  }
  return k;
}

// Theoretical FLOPs of a method on this plan (RIGL.md 4.3 through rigl/plan; models/flops for inference).
json FlopsFields(rigl::Method method, const rigl::SparsityPlan& plan) {
  rigl::TrainConfig c = g_trainer;  // TrainingFlopsPerSample reads the method and dT
  c.method = method;
  const rigl::TrainFlops tf = rigl::TrainingFlopsPerSample(c, plan, {});
  const double infer = models::InferenceFlops(plan.layers, plan.sparsities);
  return {{"train_flops_step", tf.method * g_trainer.batch_size},
          {"train_flops_rel", tf.method / tf.dense},
          {"infer_flops_sample", infer},
          {"infer_flops_rel", infer / models::DenseInferenceFlops(plan.layers)}};
}

// The whole step's counted FLOPs, times, update cost amortised over dT, and memory.
void AddStepFields(rigl::Method method, const flopsbench::StepResult& sr, const Results& res, json* row) {
  json& r = *row;
  const double delta_t = static_cast<double>(g_trainer.delta_t);
  double update = 0;
  if (method == rigl::Method::kSet) update = sr.set_update;
  if (method == rigl::Method::kRigl) {
    update = std::max(0.0, sr.rigl_iteration - sr.step);  // the update iteration's extra cost
    r["rigl_update_calls_s"] = sr.rigl_update;
    r["rigl_update_iteration_s"] = sr.rigl_iteration;
    r["update_peak_extra_mb"] = sr.rigl_update_peak_extra / 1e6;
    r["tile_mb"] = sr.largest_tile_bytes / 1e6;
    r["dense_grad_mb"] = sr.largest_dense_grad_bytes / 1e6;
  }
  const double total = sr.step + update / delta_t;
  r["counted_flops_step"] = sr.counted_flops;
  r["counted_rel"] = sr.counted_flops / res.dense_counted;
  r["step_s"] = sr.step, r["forward_s"] = sr.forward, r["backward_s"] = sr.backward, r["optimizer_s"] = sr.optimizer;
  r["step_rel"] = sr.step / res.dense_step;
  r["update_s"] = update;
  r["update_amortised_s"] = update / delta_t;
  r["update_overhead"] = update / delta_t / sr.step;
  r["total_s"] = total;
  r["total_rel"] = total / res.dense_step;
  r["time_over_flops"] = r["total_rel"].get<double>() / r["train_flops_rel"].get<double>();
  r["state_mb"] = sr.state_bytes / 1e6;
  r["activations_mb"] = sr.activation_bytes / 1e6;
  r["peak_rss_delta_mb"] = sr.peak_rss_delta / 1e6;
}

// The kernel-level sums, relative to the dense ones; the conv layers alone when the model has any.
void AddKernelFields(const KernelSums& k, const rigl::SparsityPlan& plan, const Results& res, bool have_step,
                     json* row) {
  json& r = *row;
  r["kernel_forward_s"] = k.forward, r["kernel_input_grad_s"] = k.input_grad;
  r["kernel_weight_grad_s"] = k.weight_grad, r["kernel_optimizer_s"] = k.optimizer;
  r["kernel_total_s"] = k.total(), r["kernel_rel"] = k.total() / res.dense_kernel;
  if (!have_step) r["time_over_flops"] = r["kernel_rel"].get<double>() / r["train_flops_rel"].get<double>();
  double conv_flops = 0, conv_flops_dense = 0;  // theoretical, for the conv-kernel ratio
  for (size_t l = 0; l < plan.layers.size(); ++l) {
    if (plan.layers[l].kind != models::LayerSpec::kConv) continue;
    conv_flops += models::LayerInferenceFlops(plan.layers[l], plan.sparsities[l]);
    conv_flops_dense += models::LayerInferenceFlops(plan.layers[l], 0.0);
  }
  if (conv_flops_dense > 0) {
    r["conv_kernel_rel"] = k.conv / res.dense_conv_kernel;
    r["conv_flops_rel"] = conv_flops / conv_flops_dense;
    r["conv_time_over_flops"] = r["conv_kernel_rel"].get<double>() / r["conv_flops_rel"].get<double>();
  }
  for (const auto& [type, fs] : k.by_type) r["gflops_" + type] = fs.first * 1e-9 / fs.second;
}

// One density: its plan, the step through the model (when built), every layer's kernels (with --kernel_level),
// then a row per method measured at this density.
void MeasureDensity(double density, const Options& o, Results* res) {
  const rigl::SparsityPlan plan = flopsbench::MakeBenchPlan(o.model, density, g_trainer);
  const std::string load = flopsbench::LoadNow();
  std::printf("\n== density %g: measuring (load %s)\n", density, load.c_str());
  std::fflush(stdout);
  const bool have_step = o.model.buildable();
  const flopsbench::StepResult sr = have_step ? TimeStep(plan, density, o) : flopsbench::StepResult();
  // The per-layer table times the CSR and dense kernels; a blocked run has no such table (its step is timed whole).
  const bool kernel_level = FLAGS_kernel_level && g_trainer.block == "1x1";
  const KernelSums k = kernel_level ? TimeKernels(plan, density, sr, o, res) : KernelSums();
  if (density >= 1.0) {
    res->dense_step = sr.step, res->dense_kernel = k.total(), res->dense_counted = sr.counted_flops;
    res->dense_conv_kernel = k.conv;
  }
  for (rigl::Method m : o.methods) {
    if (!MeasuredAt(m, density)) continue;
    json r = FlopsFields(m, plan);
    r["density"] = density, r["method"] = rigl::MethodName(m), r["load"] = load;
    if (have_step) AddStepFields(m, sr, *res, &r);
    if (FLAGS_kernel_level) AddKernelFields(k, plan, *res, have_step, &r);
    res->rows.push_back(r);
  }
  std::printf("   step %.2f ms (rel %.3f), kernel sum %.2f ms (rel %.3f), load now %s\n", sr.step * 1e3,
              res->dense_step > 0 ? sr.step / res->dense_step : 0.0, k.total() * 1e3,
              res->dense_kernel > 0 ? k.total() / res->dense_kernel : 0, flopsbench::LoadNow().c_str());
}

// The PyTorch comparison (--peer_json), "" without one.
std::string PeerSection(const json& rows, const Options& o) {
  if (FLAGS_peer_json.empty()) return "";
  std::ifstream in(FLAGS_peer_json);
  ENGINE_CHECK(in.good(), "--peer_json=", FLAGS_peer_json, ": cannot open; HINT: run bench/peers/torch_step.py");
  const std::string table = flopsbench::PeerTable(json::parse(in), rows, o.model.name, g_width);
  return "PyTorch (" + FLAGS_peer_json + ") beside ours, same model and batch; masked = dense weights times a "
         "dense mask:\n\n" + (table.empty() ? "(no matching PyTorch rows)\n" : table) + "\n";
}

// The report on the console; with --out also <stem>.json, <stem>.md (with the per-layer table) and the plots.
void WriteReport(const flopsbench::MachineInfo& machine, const Options& o, const Results& res) {
  const bool have_step = o.model.buildable();
  const json summary = flopsbench::Summarise(res.rows, have_step);
  std::ostringstream md;
  md << "### " << o.stem << ", batch " << g_trainer.batch_size << ", " << g_trainer.distribution
     << " sparsity in " << g_trainer.block << " blocks, dT = " << g_trainer.delta_t << "\n\n`" << o.command << "`\n\n```\n"
     << flopsbench::FormatMachine(machine) << "```\n\n"
     << flopsbench::StepSection(res.rows, have_step, FLAGS_steps) << flopsbench::KernelSection(res.rows)
     << (have_step ? flopsbench::MemorySection(res.rows) : "") << "Summary:\n\n" << flopsbench::FormatSummary(summary)
     << "\n" << PeerSection(res.rows, o);
  std::printf("\n%s", md.str().c_str());
  if (FLAGS_out.empty()) return;
  const json doc = {{"command", o.command},    {"machine", flopsbench::ToJson(machine)},
                    {"model", o.model.name},   {"width", o.model.name == "mlp" ? g_width : ""},
                    {"batch_size", g_trainer.batch_size}, {"distribution", g_trainer.distribution},
                    {"block", g_trainer.block},           {"delta_t", g_trainer.delta_t},       {"steps", FLAGS_steps},
                    {"rows", res.rows},        {"layers", res.layer_rows},
                    {"summary", summary}};
  const std::string base = FLAGS_out + "/" + o.stem;
  std::string md_text = md.str() + "\n" + flopsbench::LayerSection(res.layer_rows);
  if (FLAGS_plot) md_text += "\nPlots: `" + o.stem + "_density.png`, `" + o.stem + "_flops.png`\n";
  rigl::WriteFileAtomically(base + ".json", doc.dump(1));  // path.tmp, checked, then renamed
  rigl::WriteFileAtomically(base + ".md", md_text);
  if (FLAGS_plot) {
    const std::string err = flopsbench::Plot(res.rows, FLAGS_out, o.stem, o.stem);
    ENGINE_CHECK(err.empty(), "--plot: ", err);
  }
  std::printf("wrote %s.json, %s.md%s\n", base.c_str(), base.c_str(), FLAGS_plot ? " and PNGs" : "");
}

int Run(const std::string& command) {
  const Options options = ReadOptions(command);
  StartEngine();
  const flopsbench::MachineInfo machine = flopsbench::DescribeMachine();
  PrintBanner(options, machine);
  Results results;
  for (const double density : options.densities) MeasureDensity(density, options, &results);
  WriteReport(machine, options, results);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetCommandLineOptionWithMode("width", "4096,4096", gflags::SET_FLAGS_DEFAULT);
  gflags::SetCommandLineOptionWithMode("distribution", "uniform", gflags::SET_FLAGS_DEFAULT);
  gflags::SetCommandLineOptionWithMode("methods", TimedMethodNames(",").c_str(), gflags::SET_FLAGS_DEFAULT);
  const std::string usage =
      "bazel run //bench:flops -- --model=NAME [flags]; NAME is one of " + models::ModelNameList(false);
  gflags::SetUsageMessage(usage);
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
