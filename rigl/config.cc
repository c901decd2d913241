// Trainer flags (gflags), their validation, and the JSON form written to config.json and checkpoints.
#include "rigl/config.h"

#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>

#include <gflags/gflags.h>

#include "engine/base/check.h"

DEFINE_string(model, "mlp", "Network: mlp (widths from --width; LeNet-300-100 by default), lenet5, wrn22_2");
DEFINE_string(width, "300,100", "MLP hidden widths, comma separated (784-<widths>-10)");
DEFINE_string(data_dir, "/usr/share/datasets/fashion-mnist",
              "Directory with the IDX files (train-images-idx3-ubyte.gz etc.); MNIST/KMNIST in the same format work");
DEFINE_int64(train_limit, 0, "Use only the first N training samples (0 = all 60000)");
DEFINE_int64(test_limit, 0, "Evaluate on only the first N test samples (0 = all 10000)");
DEFINE_bool(augment, false, "Random crop (pad 2) and horizontal flip of training images");
DEFINE_int64(epochs, 20, "Training epochs (before --multiplier)");
DEFINE_int64(batch_size, 128, "Mini-batch size");
DEFINE_double(lr, 0.05, "Peak learning rate");
DEFINE_double(momentum, 0.9, "SGD momentum (0 = plain SGD)");
DEFINE_bool(nesterov, true, "Nesterov momentum (the RigL reference's optimizer)");
DEFINE_double(weight_decay, 1e-4, "L2 weight decay (gradient wd * w)");
DEFINE_double(label_smoothing, 0.0, "Label smoothing of the cross-entropy, in [0, 1)");
DEFINE_string(lr_schedule, "cosine", "Learning-rate schedule: constant | step | cosine");
DEFINE_string(lr_milestones, "", "For --lr_schedule=step: epochs at which lr is multiplied by --lr_gamma, e.g. 10,15");
DEFINE_double(lr_gamma, 0.1, "Factor of the step schedule");
DEFINE_double(warmup_epochs, 0, "Linear learning-rate warm-up length in epochs (0 = none)");
DEFINE_string(method, "rigl",
              "Training method: dense | static | set | snfs | snip | pruning | small_dense | rigl");
DEFINE_double(sparsity, 0.9, "Overall target sparsity S of the masked layers, in [0, 1)");
DEFINE_string(distribution, "erk", "Per-layer sparsity: uniform | er | erk | mnist (RIGL.md 1.1 custom MLP map)");
DEFINE_bool(first_layer_dense, false, "Keep the first layer dense (outside the sparsity budget)");
DEFINE_double(erk_power_scale, 1.0, "Exponent of the ERK scores (0 = uniform, < 1 softens ERK)");
DEFINE_int64(delta_t, 100, "Steps between topology updates (RigL, SET, SNFS)");
DEFINE_double(drop_fraction, 0.3, "Initial drop fraction alpha of each update");
DEFINE_double(t_end, 0.75, "Fraction of training after which topology updates stop");
DEFINE_string(drop_schedule, "cosine", "Decay of the drop fraction: cosine | constant | inverse_power");
DEFINE_double(drop_power, 3.0, "Exponent k of --drop_schedule=inverse_power");
DEFINE_double(multiplier, 1.0, "Training-length multiplier M (RigL_Mx): epochs, lr milestones, t_end scale with M");
DEFINE_double(snfs_momentum, 0.9, "SNFS: EMA factor of the dense gradient");
DEFINE_double(prune_start, 0.1, "Gradual pruning: start, as a fraction of training");
DEFINE_double(prune_end, 0.75, "Gradual pruning: end, as a fraction of training");
DEFINE_int64(prune_frequency, 100, "Gradual pruning: steps between mask recomputations");
DEFINE_int64(grow_tile_rows, 0, "Rows per dense-gradient tile in RigL's grow step (0 = about 4 Mi floats, >= 256 rows, <= 64 Mi floats)");
DEFINE_string(init_fan, "dense",
              "Fans of a sparse weight's initialiser: dense (the paper: the dense layer's fan-in/out) | stored "
              "(nnz per row / per column)");
DEFINE_uint64(seed, 0, "Random seed (data order, masks, initial weights, SET growth)");
DEFINE_int32(threads, 2, "OpenMP threads for every kernel");
DEFINE_string(out_dir, "",
              "Write config.json, metrics.jsonl, metrics.csv, checkpoint.bin and summary.json here (relative paths "
              "are resolved against the directory bazel run was started from)");
DEFINE_string(resume, "", "Resume from this checkpoint file (e.g. <out_dir>/checkpoint.bin)");
DEFINE_int64(eval_every, 1, "Epochs between test-set evaluations (the last epoch is always evaluated)");
DEFINE_int64(checkpoint_every, 0, "Also checkpoint every N steps (0 = only at the end of each epoch)");
DEFINE_int64(stop_after_steps, 0, "Stop after N steps, checkpointing first (simulates an interruption)");
DEFINE_double(time_budget, 0,
              "Stop once training (steps and topology updates, not evaluation) has taken this many seconds, then "
              "evaluate, checkpoint and write the summary (0 = no budget). Where it stops depends on the speed");
DEFINE_bool(overwrite, false,
            "Allow a fresh run (no --resume) into an --out_dir that already holds a run's files, replacing them");
DEFINE_bool(flops_only, false, "Print the per-layer theoretical FLOPs table for --model/--sparsity/--method and exit");
DEFINE_string(progress, "auto", "Progress display: auto (bar on a terminal, lines otherwise) | bar | lines | none");

namespace rigl {
namespace {

template <typename T>
void CheckOneOf(const char* flag, const std::string& value, const std::set<std::string>& allowed) {
  if (allowed.count(value)) return;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : " | ") + a;
  ENGINE_CHECK(false, "--", flag, "=", value, ": unknown value; expected one of ", list);
}

}  // namespace

void CheckFlagSyntax(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") break;
    if (arg.rfind("-", 0) != 0) continue;  // a positional argument: trainer_main reports it
    arg = arg.substr(arg.rfind("--", 0) == 0 ? 2 : 1);
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    gflags::CommandLineFlagInfo info;
    const bool known = gflags::GetCommandLineFlagInfo(name.c_str(), &info);
    const bool negated_bool = !known && name.rfind("no", 0) == 0 &&
                              gflags::GetCommandLineFlagInfo(name.substr(2).c_str(), &info) && info.type == "bool";
    ENGINE_CHECK(known || negated_bool, "--", name, ": unknown flag; expected one of the flags --help lists");
    const std::string type = info.type;
    std::string value;
    if (eq != std::string::npos) {
      ENGINE_CHECK(!negated_bool, "--", arg, ": a --no<flag> takes no value; expected --", name, " alone");
      value = arg.substr(eq + 1);
    } else if (type == "bool") {
      continue;  // --flag or --noflag
    } else {
      // --flag value: gflags takes the next argument as the value.
      ENGINE_CHECK(i + 1 < argc, "--", name, ": missing its value; expected --", name, "=<", type, ">");
      value = argv[++i];
    }
    char* end = nullptr;
    errno = 0;
    bool ok = true;
    // strtoll and friends skip leading white space (" -1" would pass as a uint64 here and fail in gflags, found by
    // tools/fuzz.sh): numbers must start with a sign, a digit or a point.
    const bool numeric = type != "bool" && type != "string";
    if (numeric && (value.empty() || !(std::isdigit(static_cast<unsigned char>(value[0])) || value[0] == '-' ||
                                       value[0] == '+' || value[0] == '.'))) {
      ok = false;
    } else if (type == "int32" || type == "int64") {
      const long long v = std::strtoll(value.c_str(), &end, 10);
      ok = !value.empty() && *end == '\0' && errno == 0 &&
           (type == "int64" || (v >= INT32_MIN && v <= INT32_MAX));
    } else if (type == "uint32" || type == "uint64") {
      ok = !value.empty() && value[0] != '-' && (std::strtoull(value.c_str(), &end, 10), *end == '\0') &&
           errno == 0;
    } else if (type == "double") {
      std::strtod(value.c_str(), &end);
      ok = !value.empty() && *end == '\0' && errno == 0;
    } else if (type == "bool") {
      ok = std::set<std::string>{"true", "false", "1", "0", "yes", "no", "t", "f", "y", "n"}.count(value) > 0;
    }
    ENGINE_CHECK(ok, "--", name, "=", value, ": not a valid ", type,
                 type == "uint64" || type == "uint32" ? " (a non-negative integer)" : "",
                 type == "int32" || type == "int64" ? " (an integer in range)" : "", "; expected a ", type, " value");
  }
}

std::string TrainerHelp() {
  static const std::vector<std::pair<const char*, std::vector<const char*>>> kGroups = {
      {"Model", {"model", "width", "init_fan"}},
      {"Method and sparsity",
       {"method", "sparsity", "distribution", "first_layer_dense", "erk_power_scale", "snfs_momentum", "prune_start",
        "prune_end", "prune_frequency"}},
      {"Topology updates (RigL, SET, SNFS)",
       {"delta_t", "drop_fraction", "t_end", "drop_schedule", "drop_power", "multiplier", "grow_tile_rows"}},
      {"Optimisation",
       {"epochs", "batch_size", "lr", "lr_schedule", "lr_milestones", "lr_gamma", "warmup_epochs", "momentum",
        "nesterov", "weight_decay", "label_smoothing", "seed"}},
      {"Data", {"data_dir", "train_limit", "test_limit", "augment"}},
      {"Outputs and resume",
       {"out_dir", "overwrite", "resume", "eval_every", "checkpoint_every", "stop_after_steps", "time_budget",
        "progress", "flops_only"}},
      {"Performance", {"threads"}},
  };
  std::vector<gflags::CommandLineFlagInfo> all;
  gflags::GetAllFlags(&all);
  std::map<std::string, gflags::CommandLineFlagInfo> ours;
  for (const gflags::CommandLineFlagInfo& f : all) {
    if (f.filename.size() >= 14 && f.filename.compare(f.filename.size() - 14, 14, "rigl/config.cc") == 0) {
      ours[f.name] = f;
    }
  }
  std::ostringstream out;
  out << "trainer: trains sparse (or dense) networks on Fashion-MNIST with RigL and its baselines.\n"
      << "usage: bazel run //:trainer -- [--flag=value ...]   (or bazel-bin/rigl/trainer [--flag=value ...])\n";
  auto print = [&](const gflags::CommandLineFlagInfo& f) {
    std::string def = f.default_value.empty() ? "\"\"" : f.default_value;
    if (f.type == "double") {
      char shortest[32];
      std::snprintf(shortest, sizeof(shortest), "%g", std::strtod(f.default_value.c_str(), nullptr));
      def = shortest;
    }
    out << "  --" << f.name << "=<" << f.type << ">  (default: " << def << ")\n      " << f.description << "\n";
  };
  std::set<std::string> printed;
  for (const auto& [group, names] : kGroups) {
    out << "\n" << group << ":\n";
    for (const char* name : names) {
      const auto it = ours.find(name);
      if (it == ours.end()) continue;
      print(it->second);
      printed.insert(name);
    }
  }
  bool other = false;
  for (const auto& [name, f] : ours) {
    if (printed.count(name)) continue;
    if (!other) out << "\nOther:\n";
    other = true;
    print(f);
  }
  out << "\nExamples:\n"
      << "  bazel run //:trainer                                     # LeNet-300-100, RigL at 90% (ERK), 20 epochs\n"
      << "  bazel run //:trainer -- --method=dense --epochs=20\n"
      << "  bazel run //:trainer -- --method=static --sparsity=0.9 --distribution=uniform\n"
      << "  bazel run //:trainer -- --model=lenet5 --method=set --sparsity=0.95 --out_dir=runs/lenet5_set\n"
      << "  bazel run //:trainer -- --model=lenet5 --method=set --sparsity=0.95 --out_dir=runs/lenet5_set "
         "--resume=runs/lenet5_set/checkpoint.bin\n"
      << "  bazel run //:trainer -- --model=resnet50 --sparsity=0.9 --flops_only\n"
      << "\nBad flags exit with code 2. --helpfull also lists the flag library's own flags (--flagfile, ...).\n";
  return out.str();
}

std::vector<int64_t> ParseIntList(const std::string& flag, const std::string& text) {
  std::vector<int64_t> out;
  size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    char* end = nullptr;
    const long long v = std::strtoll(item.c_str(), &end, 10);
    ENGINE_CHECK(!item.empty() && end != nullptr && *end == '\0', "--", flag, "=", text, ": '", item,
                 "' is not an integer; expected a comma-separated list of integers");
    out.push_back(v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::vector<double> ParseDoubleList(const std::string& flag, const std::string& text) {
  std::vector<double> out;
  size_t start = 0;
  while (!text.empty()) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    char* end = nullptr;
    const double v = std::strtod(item.c_str(), &end);
    ENGINE_CHECK(!item.empty() && end != nullptr && *end == '\0', "--", flag, "=", text, ": '", item,
                 "' is not a number; expected a comma-separated list of numbers");
    out.push_back(v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

TrainConfig ConfigFromFlags() {
  TrainConfig c;
  c.model = FLAGS_model;
  c.width = ParseIntList("width", FLAGS_width);
  c.data_dir = FLAGS_data_dir;
  c.train_limit = FLAGS_train_limit;
  c.test_limit = FLAGS_test_limit;
  c.augment = FLAGS_augment;
  c.epochs = FLAGS_epochs;
  c.batch_size = FLAGS_batch_size;
  c.lr = FLAGS_lr;
  c.momentum = FLAGS_momentum;
  c.nesterov = FLAGS_nesterov;
  c.weight_decay = FLAGS_weight_decay;
  c.label_smoothing = FLAGS_label_smoothing;
  c.lr_schedule = FLAGS_lr_schedule;
  c.lr_milestones = ParseDoubleList("lr_milestones", FLAGS_lr_milestones);
  c.lr_gamma = FLAGS_lr_gamma;
  c.warmup_epochs = FLAGS_warmup_epochs;
  c.method = FLAGS_method;
  c.sparsity = FLAGS_sparsity;
  c.distribution = FLAGS_distribution;
  c.first_layer_dense = FLAGS_first_layer_dense;
  c.erk_power_scale = FLAGS_erk_power_scale;
  c.delta_t = FLAGS_delta_t;
  c.drop_fraction = FLAGS_drop_fraction;
  c.t_end = FLAGS_t_end;
  c.drop_schedule = FLAGS_drop_schedule;
  c.drop_power = FLAGS_drop_power;
  c.multiplier = FLAGS_multiplier;
  c.snfs_momentum = FLAGS_snfs_momentum;
  c.prune_start = FLAGS_prune_start;
  c.prune_end = FLAGS_prune_end;
  c.prune_frequency = FLAGS_prune_frequency;
  c.grow_tile_rows = FLAGS_grow_tile_rows;
  c.init_fan = FLAGS_init_fan;
  c.seed = FLAGS_seed;
  c.threads = FLAGS_threads;
  c.out_dir = FLAGS_out_dir;
  c.resume = FLAGS_resume;
  c.eval_every = FLAGS_eval_every;
  c.checkpoint_every = FLAGS_checkpoint_every;
  c.stop_after_steps = FLAGS_stop_after_steps;
  c.time_budget = FLAGS_time_budget;
  c.flops_only = FLAGS_flops_only;
  c.overwrite = FLAGS_overwrite;
  c.progress = FLAGS_progress;
  ValidateConfig(c);
  return c;
}

void ValidateConfig(const TrainConfig& c) {
  CheckOneOf<void>("model", c.model, {"mlp", "lenet5", "wrn22_2", "resnet50", "mobilenet_v1", "mobilenet_v2"});
  if (!c.flops_only) {
    ENGINE_CHECK(c.model == "mlp" || c.model == "lenet5" || c.model == "wrn22_2", "--model=", c.model,
                 ": trainable on Fashion-MNIST are mlp | lenet5 | wrn22_2; expected one of those (",
                 c.model, " is available with --flops_only and in //bench)");
  }
  ENGINE_CHECK(!c.width.empty(), "--width: empty; expected at least one hidden width");
  for (int64_t w : c.width) {
    ENGINE_CHECK(w >= 1 && w <= kMaxWidth, "--width: ", w, " given; expected 1 <= width <= ", kMaxWidth,
                 " (column indices are 32-bit)");
  }
  ENGINE_CHECK(c.train_limit >= 0, "--train_limit=", c.train_limit, ": expected >= 0");
  ENGINE_CHECK(c.test_limit >= 0, "--test_limit=", c.test_limit, ": expected >= 0");
  ENGINE_CHECK(c.epochs >= 1 && c.epochs <= kMaxEpochs, "--epochs=", c.epochs, ": expected 1 <= epochs <= ",
               kMaxEpochs);
  ENGINE_CHECK(c.batch_size >= 1 && c.batch_size <= kMaxBatchSize, "--batch_size=", c.batch_size,
               ": expected 1 <= batch_size <= ", kMaxBatchSize);
  ENGINE_CHECK(std::isfinite(c.lr) && c.lr > 0, "--lr=", c.lr, ": expected a finite number > 0");
  ENGINE_CHECK(c.momentum >= 0 && c.momentum < 1, "--momentum=", c.momentum, ": expected 0 <= momentum < 1");
  ENGINE_CHECK(c.weight_decay >= 0 && std::isfinite(c.weight_decay), "--weight_decay=", c.weight_decay,
               ": expected a finite number >= 0");
  ENGINE_CHECK(c.label_smoothing >= 0 && c.label_smoothing < 1, "--label_smoothing=", c.label_smoothing,
               ": expected 0 <= label_smoothing < 1");
  CheckOneOf<void>("lr_schedule", c.lr_schedule, {"constant", "step", "cosine"});
  for (double m : c.lr_milestones) ENGINE_CHECK(m > 0, "--lr_milestones: ", m, " given; expected epochs > 0");
  ENGINE_CHECK(c.lr_gamma > 0 && c.lr_gamma <= 1, "--lr_gamma=", c.lr_gamma, ": expected 0 < gamma <= 1");
  ENGINE_CHECK(c.warmup_epochs >= 0, "--warmup_epochs=", c.warmup_epochs, ": expected >= 0");
  CheckOneOf<void>("method", c.method, {"dense", "static", "set", "snfs", "snip", "pruning", "small_dense", "rigl"});
  ENGINE_CHECK(c.sparsity >= 0 && c.sparsity < 1, "--sparsity=", c.sparsity, ": expected 0 <= sparsity < 1");
  CheckOneOf<void>("distribution", c.distribution, {"uniform", "er", "erk", "mnist"});
  ENGINE_CHECK(c.erk_power_scale >= 0, "--erk_power_scale=", c.erk_power_scale, ": expected >= 0");
  ENGINE_CHECK(c.delta_t >= 1, "--delta_t=", c.delta_t, ": expected >= 1");
  ENGINE_CHECK(c.drop_fraction >= 0 && c.drop_fraction <= 1, "--drop_fraction=", c.drop_fraction,
               ": expected 0 <= drop_fraction <= 1");
  ENGINE_CHECK(c.t_end > 0 && c.t_end <= 1, "--t_end=", c.t_end, ": expected 0 < t_end <= 1");
  CheckOneOf<void>("drop_schedule", c.drop_schedule, {"cosine", "constant", "inverse_power"});
  ENGINE_CHECK(c.drop_power > 0, "--drop_power=", c.drop_power, ": expected > 0");
  ENGINE_CHECK(c.multiplier > 0 && c.multiplier <= kMaxMultiplier, "--multiplier=", c.multiplier,
               ": expected 0 < multiplier <= ", kMaxMultiplier);
  ENGINE_CHECK(static_cast<double>(c.epochs) * c.multiplier <= static_cast<double>(kMaxEpochs), "--epochs=", c.epochs,
               " --multiplier=", c.multiplier, ": ", static_cast<double>(c.epochs) * c.multiplier,
               " epochs in all; expected at most ", kMaxEpochs);
  ENGINE_CHECK(c.snfs_momentum >= 0 && c.snfs_momentum < 1, "--snfs_momentum=", c.snfs_momentum,
               ": expected 0 <= snfs_momentum < 1");
  ENGINE_CHECK(c.prune_start >= 0 && c.prune_start < c.prune_end && c.prune_end <= 1, "--prune_start=",
               c.prune_start, " --prune_end=", c.prune_end, ": expected 0 <= prune_start < prune_end <= 1");
  ENGINE_CHECK(c.prune_frequency >= 1, "--prune_frequency=", c.prune_frequency, ": expected >= 1");
  CheckOneOf<void>("init_fan", c.init_fan, {"dense", "stored"});
  ENGINE_CHECK(c.grow_tile_rows >= 0, "--grow_tile_rows=", c.grow_tile_rows, ": expected >= 0");
  ENGINE_CHECK(c.threads >= 1 && c.threads <= 1024, "--threads=", c.threads, ": expected 1 <= threads <= 1024");
  ENGINE_CHECK(c.eval_every >= 1, "--eval_every=", c.eval_every, ": expected >= 1");
  ENGINE_CHECK(c.checkpoint_every >= 0, "--checkpoint_every=", c.checkpoint_every, ": expected >= 0");
  ENGINE_CHECK(c.stop_after_steps >= 0, "--stop_after_steps=", c.stop_after_steps, ": expected >= 0");
  ENGINE_CHECK(std::isfinite(c.time_budget) && c.time_budget >= 0, "--time_budget=", c.time_budget,
               ": expected a finite number of seconds >= 0 (0 = no budget)");
  CheckOneOf<void>("progress", c.progress, {"auto", "bar", "lines", "none"});
  ENGINE_CHECK(c.stop_after_steps == 0 || !c.out_dir.empty(), "--stop_after_steps=", c.stop_after_steps,
               " without --out_dir: the checkpoint would have nowhere to go; expected --out_dir as well");
}

nlohmann::json ConfigToJson(const TrainConfig& c) {
  nlohmann::json j;
  j["version"] = kVersion;
  j["model"] = c.model;
  j["width"] = c.width;
  j["data_dir"] = c.data_dir;
  j["train_limit"] = c.train_limit;
  j["test_limit"] = c.test_limit;
  j["augment"] = c.augment;
  j["epochs"] = c.epochs;
  j["batch_size"] = c.batch_size;
  j["lr"] = c.lr;
  j["momentum"] = c.momentum;
  j["nesterov"] = c.nesterov;
  j["weight_decay"] = c.weight_decay;
  j["label_smoothing"] = c.label_smoothing;
  j["lr_schedule"] = c.lr_schedule;
  j["lr_milestones"] = c.lr_milestones;
  j["lr_gamma"] = c.lr_gamma;
  j["warmup_epochs"] = c.warmup_epochs;
  j["method"] = c.method;
  j["sparsity"] = c.sparsity;
  j["distribution"] = c.distribution;
  j["first_layer_dense"] = c.first_layer_dense;
  j["erk_power_scale"] = c.erk_power_scale;
  j["delta_t"] = c.delta_t;
  j["drop_fraction"] = c.drop_fraction;
  j["t_end"] = c.t_end;
  j["drop_schedule"] = c.drop_schedule;
  j["drop_power"] = c.drop_power;
  j["multiplier"] = c.multiplier;
  j["snfs_momentum"] = c.snfs_momentum;
  j["prune_start"] = c.prune_start;
  j["prune_end"] = c.prune_end;
  j["prune_frequency"] = c.prune_frequency;
  j["grow_tile_rows"] = c.grow_tile_rows;
  j["init_fan"] = c.init_fan;
  j["time_budget"] = c.time_budget;
  j["seed"] = c.seed;
  j["threads"] = c.threads;
  j["out_dir"] = c.out_dir;
  j["eval_every"] = c.eval_every;
  j["checkpoint_every"] = c.checkpoint_every;
  return j;
}

TrainConfig ConfigFromJson(const nlohmann::json& j) {
  TrainConfig c;
  c.model = j.at("model").get<std::string>();
  c.width = j.at("width").get<std::vector<int64_t>>();
  c.data_dir = j.at("data_dir").get<std::string>();
  c.train_limit = j.at("train_limit").get<int64_t>();
  c.test_limit = j.at("test_limit").get<int64_t>();
  c.augment = j.at("augment").get<bool>();
  c.epochs = j.at("epochs").get<int64_t>();
  c.batch_size = j.at("batch_size").get<int64_t>();
  c.lr = j.at("lr").get<double>();
  c.momentum = j.at("momentum").get<double>();
  c.nesterov = j.at("nesterov").get<bool>();
  c.weight_decay = j.at("weight_decay").get<double>();
  c.label_smoothing = j.at("label_smoothing").get<double>();
  c.lr_schedule = j.at("lr_schedule").get<std::string>();
  c.lr_milestones = j.at("lr_milestones").get<std::vector<double>>();
  c.lr_gamma = j.at("lr_gamma").get<double>();
  c.warmup_epochs = j.at("warmup_epochs").get<double>();
  c.method = j.at("method").get<std::string>();
  c.sparsity = j.at("sparsity").get<double>();
  c.distribution = j.at("distribution").get<std::string>();
  c.first_layer_dense = j.at("first_layer_dense").get<bool>();
  c.erk_power_scale = j.at("erk_power_scale").get<double>();
  c.delta_t = j.at("delta_t").get<int64_t>();
  c.drop_fraction = j.at("drop_fraction").get<double>();
  c.t_end = j.at("t_end").get<double>();
  c.drop_schedule = j.at("drop_schedule").get<std::string>();
  c.drop_power = j.at("drop_power").get<double>();
  c.multiplier = j.at("multiplier").get<double>();
  c.snfs_momentum = j.at("snfs_momentum").get<double>();
  c.prune_start = j.at("prune_start").get<double>();
  c.prune_end = j.at("prune_end").get<double>();
  c.prune_frequency = j.at("prune_frequency").get<int64_t>();
  c.grow_tile_rows = j.at("grow_tile_rows").get<int64_t>();
  // Keys added after version 0.1.0's first checkpoints: absent means the old behaviour.
  c.init_fan = j.value("init_fan", std::string("dense"));
  c.time_budget = j.value("time_budget", 0.0);
  c.seed = j.at("seed").get<uint64_t>();
  c.threads = j.at("threads").get<int>();
  c.out_dir = j.at("out_dir").get<std::string>();
  c.eval_every = j.at("eval_every").get<int64_t>();
  c.checkpoint_every = j.at("checkpoint_every").get<int64_t>();
  return c;
}

}  // namespace rigl
