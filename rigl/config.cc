// Trainer flags: the one table of TrainConfig fields (see config.h) and everything derived from it.
#include "rigl/config.h"

#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include <gflags/gflags.h>

#include "engine/base/check.h"
#include "models/model_names.h"

namespace rigl {
namespace {

using nlohmann::json;

enum class OnResume {
  kMustMatch,  // shapes the run: a checkpoint trained with another value is refused
  kMayChange,  // saved, but a resumed run may use another value (threads, paths, cadence)
  kNotSaved,   // run control only (--resume, --progress, ...): not in config.json nor checkpoints
};

// How a TrainConfig member of type T appears as a gflag (of type Flag) and in JSON.
template <typename T>
struct Codec {
  using Flag = T;
  static T FromFlag(const char*, const Flag& f) { return f; }
  static Flag ToFlag(const T& v) { return v; }
  static json ToJson(const T& v) { return v; }
  static T FromJson(const json& j) { return j.get<T>(); }
};
template <>
struct Codec<std::vector<int64_t>> {
  using Flag = std::string;
  static std::vector<int64_t> FromFlag(const char* name, const Flag& f) { return ParseIntList(name, f); }
  static Flag ToFlag(const std::vector<int64_t>& v) {
    std::string s;
    for (int64_t x : v) s += (s.empty() ? "" : ",") + std::to_string(x);
    return s;
  }
  static json ToJson(const std::vector<int64_t>& v) { return v; }
  static std::vector<int64_t> FromJson(const json& j) { return j.get<std::vector<int64_t>>(); }
};
template <>
struct Codec<std::vector<double>> {
  using Flag = std::string;
  static std::vector<double> FromFlag(const char* name, const Flag& f) { return ParseDoubleList(name, f); }
  static Flag ToFlag(const std::vector<double>& v) {
    std::ostringstream s;
    for (size_t i = 0; i < v.size(); ++i) s << (i ? "," : "") << v[i];
    return s.str();
  }
  static json ToJson(const std::vector<double>& v) { return v; }
  static std::vector<double> FromJson(const json& j) { return j.get<std::vector<double>>(); }
};
template <>
struct Codec<Method> {
  using Flag = std::string;
  static Method FromFlag(const char*, const Flag& f) { return ParseMethod(f); }
  static Flag ToFlag(Method m) { return MethodName(m); }
  static json ToJson(Method m) { return MethodName(m); }
  static Method FromJson(const json& j) { return ParseMethod(j.get<std::string>()); }
};

// A validation rule: throws engine::Error naming --name, the value and what was expected.
template <typename T>
using Check = std::function<void(const char* name, const T& value)>;

template <typename T>
Check<T> Rule(std::function<bool(const T&)> ok, std::string expected) {
  return [ok, expected](const char* name, const T& v) {
    ENGINE_CHECK(ok(v), "--", name, "=", v, ": expected ", expected);
  };
}
Check<std::string> OneOf(std::vector<std::string> allowed) {
  return [allowed](const char* name, const std::string& v) {
    std::string list;
    for (const std::string& a : allowed) {
      if (a == v) return;
      list += (list.empty() ? "" : " | ") + a;
    }
    ENGINE_CHECK(false, "--", name, "=", v, ": unknown value; expected one of ", list);
  };
}
template <typename E>
Check<std::vector<E>> Each(std::function<bool(E)> ok, std::string expected, const char* if_empty) {
  return [ok, expected, if_empty](const char* name, const std::vector<E>& v) {
    ENGINE_CHECK(if_empty == nullptr || !v.empty(), "--", name, ": empty; expected ", if_empty ? if_empty : "");
    for (E x : v) ENGINE_CHECK(ok(x), "--", name, ": ", x, " given; expected ", expected);
  };
}
template <typename T>
Check<T> Any() {
  return [](const char*, const T&) {};
}

struct Field {
  const char* name;
  const char* group;
  OnResume resume;
  std::function<void(TrainConfig*)> read_flag;
  std::function<void(const TrainConfig&)> validate;
  std::function<json(const TrainConfig&)> to_json;
  std::function<void(const json&, TrainConfig*)> from_json;
  json absent;  // assumed when a saved config lacks the key (null: the key is required)
};

// Declares one field: registers its gflag (storage lives for the whole process, as gflags' own macros do) and
// returns the operations the rest of this file applies to every field.
template <typename T>
Field Declare(const char* name, T TrainConfig::*member, const char* group, const char* help, OnResume resume,
              Check<T> check, json absent = nullptr) {
  using C = Codec<T>;
  using Flag = typename C::Flag;
  static const TrainConfig kDefaults;
  Flag* current = new Flag(C::ToFlag(kDefaults.*member));
  Flag* default_value = new Flag(C::ToFlag(kDefaults.*member));
  gflags::FlagRegisterer(name, help, __FILE__, current, default_value);
  Field f;
  f.name = name;
  f.group = group;
  f.resume = resume;
  f.read_flag = [name, member, current](TrainConfig* c) { c->*member = C::FromFlag(name, *current); };
  f.validate = [name, member, check](const TrainConfig& c) { check(name, c.*member); };
  f.to_json = [member](const TrainConfig& c) { return C::ToJson(c.*member); };
  f.from_json = [member](const json& j, TrainConfig* c) { c->*member = C::FromJson(j); };
  f.absent = std::move(absent);
  return f;
}

constexpr char kModel[] = "Model";
constexpr char kMethod[] = "Method and sparsity";
constexpr char kTopology[] = "Topology updates (RigL, SET, SNFS)";
constexpr char kOptim[] = "Optimisation";
constexpr char kData[] = "Data";
constexpr char kOutputs[] = "Outputs and resume";
constexpr char kPerf[] = "Performance";

bool Finite(double v) { return std::isfinite(v); }

const std::vector<Field>& Fields() {
  using C = TrainConfig;
  using R = OnResume;
  static const std::vector<Field> kFields = [] {
    std::vector<std::string> models;
    for (const models::ModelName& m : models::ModelNames()) models.push_back(m.name);
    const std::string model_help = "Network: " + models::ModelNameList(false) +
                                   " (mlp: 784-<--width>-10, LeNet-300-100 by default; mobilenet_v1 / v2 on 28x28 with a "
                                   "stride-1 stem, width --mobilenet_width; resnet50 for --flops_only)";
    const std::string method_help = "Training method: " + MethodNameList();
    static const std::string kModelHelp = model_help, kMethodHelp = method_help;
    return std::vector<Field>{
        Declare<std::string>("model", &C::model, kModel, kModelHelp.c_str(), R::kMustMatch, OneOf(models)),
        Declare<std::vector<int64_t>>("width", &C::width, kModel, "MLP hidden widths, comma separated (784-<widths>-10)",
                                      R::kMustMatch,
                                      Each<int64_t>([](int64_t w) { return w >= 1 && w <= kMaxWidth; },
                                                    "1 <= width <= " + std::to_string(kMaxWidth) +
                                                        " (column indices are 32-bit)",
                                                    "at least one hidden width")),
        Declare<double>("mobilenet_width", &C::mobilenet_width, kModel,
                        "MobileNet v1 / v2 width multiplier alpha (channels: torchvision's multiple of 8 nearest "
                        "c * alpha)",
                        R::kMustMatch, Rule<double>([](double v) { return v >= 0.25 && v <= 4; },
                                                    "0.25 <= mobilenet_width <= 4"), json(1.0)),
        Declare<int64_t>("embedding_dim", &C::embedding_dim, kModel, "gru_lm: byte embedding width", R::kMustMatch,
                         Rule<int64_t>([](int64_t v) { return v >= 1 && v <= 65536; }, "1 <= embedding_dim <= 65536"),
                         json(128)),
        Declare<int64_t>("gru_hidden", &C::gru_hidden, kModel, "gru_lm: GRU state width H (weights [3H, H])",
                         R::kMustMatch,
                         Rule<int64_t>([](int64_t v) { return v >= 1 && v <= 65536; }, "1 <= gru_hidden <= 65536"),
                         json(512)),
        Declare<std::vector<int64_t>>("readout", &C::readout, kModel,
                                      "gru_lm: widths of the ReLU readout layers between the GRU and the 256 logits, "
                                      "comma separated",
                                      R::kMustMatch,
                                      Each<int64_t>([](int64_t w) { return w >= 1 && w <= 65536; },
                                                    "1 <= width <= 65536", "at least one readout width"),
                                      json(std::vector<int64_t>{256, 128})),
        Declare<int64_t>("seq_len", &C::seq_len, kModel,
                         "gru_lm: time steps per sequence (back-propagation through all of them); a sample is one "
                         "sequence",
                         R::kMustMatch,
                         Rule<int64_t>([](int64_t v) { return v >= 1 && v <= 65536; }, "1 <= seq_len <= 65536"),
                         json(512)),
        Declare<std::string>("init_fan", &C::init_fan, kModel,
                             "Fans of a sparse weight's initialiser: dense (the paper: the dense layer's fan-in/out) | "
                             "stored (nnz per row / per column)",
                             R::kMayChange, OneOf({"dense", "stored"}), "dense"),
        Declare<std::string>("init_from", &C::init_from, kModel,
                             "Start from the weights of this safetensors file (an --export, or PyTorch's state dict "
                             "in that layout: docs/EXPORT.md); dense weights of sparse layers keep their largest |w|. "
                             "Ignored on --resume (the checkpoint holds the weights)",
                             R::kMayChange, Any<std::string>(), ""),
        Declare<Method>("method", &C::method, kMethod, kMethodHelp.c_str(), R::kMustMatch, Any<Method>()),
        Declare<double>("sparsity", &C::sparsity, kMethod, "Overall target sparsity S of the masked layers, in [0, 1)",
                        R::kMustMatch, Rule<double>([](double v) { return v >= 0 && v < 1; }, "0 <= sparsity < 1")),
        Declare<std::string>("distribution", &C::distribution, kMethod,
                             "Per-layer sparsity: uniform | er | erk | mnist (RIGL.md 1.1 custom MLP map)",
                             R::kMustMatch, OneOf({"uniform", "er", "erk", "mnist"})),
        Declare<std::string>("block", &C::block, kMethod,
                             "Block shape RxC of the sparsity, rows x cols of the weight [out, in] (a conv's [K, "
                             "C*R*S]: output channels x filter taps; a conv whose sizes are not multiples of R, C "
                             "stays 1x1): 1x1 (CSR, unstructured) | 2x1 | 4x1 | 8x1 | 1x4 | 2x2 | 4x4 (BSR; drop by "
                             "a block's weight norm, grow by its dense-gradient norm)",
                             R::kMustMatch, OneOf(SupportedBlocks()), json("1x1")),
        Declare<bool>("first_layer_dense", &C::first_layer_dense, kMethod,
                      "Keep the first layer dense (outside the sparsity budget)", R::kMustMatch, Any<bool>()),
        Declare<double>("erk_power_scale", &C::erk_power_scale, kMethod,
                        "Exponent of the ERK scores (0 = uniform, < 1 softens ERK)", R::kMustMatch,
                        Rule<double>([](double v) { return v >= 0; }, ">= 0")),
        Declare<double>("snfs_momentum", &C::snfs_momentum, kMethod, "SNFS: EMA factor of the dense gradient",
                        R::kMustMatch,
                        Rule<double>([](double v) { return v >= 0 && v < 1; }, "0 <= snfs_momentum < 1")),
        Declare<double>("global_floor", &C::global_floor, kMethod,
                        "rigl_global: the fewest positions a layer may keep, as a fraction of its distribution's nnz",
                        R::kMustMatch, Rule<double>([](double v) { return v >= 0 && v <= 1; }, "0 <= global_floor <= 1"),
                        0.25),
        Declare<double>("mest_lambda", &C::mest_lambda, kMethod,
                        "mest: weight of the gradient in the drop score |w| + lambda |dL/dw|",
                        R::kMustMatch, Rule<double>([](double v) { return Finite(v) && v >= 0; }, "a finite number >= 0"),
                        1.0),
        Declare<double>("prune_start", &C::prune_start, kMethod, "Gradual pruning: start, as a fraction of training",
                        R::kMustMatch, Rule<double>([](double v) { return v >= 0 && v < 1; }, "0 <= prune_start < 1")),
        Declare<double>("prune_end", &C::prune_end, kMethod, "Gradual pruning: end, as a fraction of training",
                        R::kMustMatch, Rule<double>([](double v) { return v > 0 && v <= 1; }, "0 < prune_end <= 1")),
        Declare<int64_t>("prune_frequency", &C::prune_frequency, kMethod,
                         "Gradual pruning: steps between mask recomputations", R::kMustMatch,
                         Rule<int64_t>([](int64_t v) { return v >= 1; }, ">= 1")),
        Declare<int64_t>("delta_t", &C::delta_t, kTopology, "Steps between topology updates (RigL, SET, SNFS)",
                         R::kMustMatch, Rule<int64_t>([](int64_t v) { return v >= 1; }, ">= 1")),
        Declare<double>("drop_fraction", &C::drop_fraction, kTopology, "Initial drop fraction alpha of each update",
                        R::kMustMatch,
                        Rule<double>([](double v) { return v >= 0 && v <= 1; }, "0 <= drop_fraction <= 1")),
        Declare<double>("t_end", &C::t_end, kTopology, "Fraction of training after which topology updates stop",
                        R::kMustMatch, Rule<double>([](double v) { return v > 0 && v <= 1; }, "0 < t_end <= 1")),
        Declare<std::string>("drop_schedule", &C::drop_schedule, kTopology,
                             "Decay of the drop fraction: cosine | constant | inverse_power", R::kMustMatch,
                             OneOf({"cosine", "constant", "inverse_power"})),
        Declare<double>("drop_power", &C::drop_power, kTopology, "Exponent k of --drop_schedule=inverse_power",
                        R::kMustMatch, Rule<double>([](double v) { return v > 0; }, "> 0")),
        Declare<double>("multiplier", &C::multiplier, kTopology,
                        "Training-length multiplier M (RigL_Mx): epochs, lr milestones, t_end scale with M",
                        R::kMustMatch,
                        Rule<double>([](double v) { return v > 0 && v <= kMaxMultiplier; },
                                     "0 < multiplier <= " + std::to_string(static_cast<int>(kMaxMultiplier)))),
        Declare<int64_t>("grow_tile_rows", &C::grow_tile_rows, kTopology,
                         "Rows per dense-gradient tile in RigL's grow step (0 = about 4 Mi floats, >= 256 rows, <= 64 "
                         "Mi floats)",
                         R::kMayChange, Rule<int64_t>([](int64_t v) { return v >= 0; }, ">= 0")),
        Declare<int64_t>("epochs", &C::epochs, kOptim, "Training epochs (before --multiplier)", R::kMustMatch,
                         Rule<int64_t>([](int64_t v) { return v >= 1 && v <= kMaxEpochs; },
                                       "1 <= epochs <= " + std::to_string(kMaxEpochs))),
        Declare<int64_t>("batch_size", &C::batch_size, kOptim, "Mini-batch size", R::kMustMatch,
                         Rule<int64_t>([](int64_t v) { return v >= 1 && v <= kMaxBatchSize; },
                                       "1 <= batch_size <= " + std::to_string(kMaxBatchSize))),
        Declare<double>("lr", &C::lr, kOptim, "Peak learning rate", R::kMustMatch,
                        Rule<double>([](double v) { return Finite(v) && v > 0; }, "a finite number > 0")),
        Declare<std::string>("lr_schedule", &C::lr_schedule, kOptim, "Learning-rate schedule: constant | step | cosine",
                             R::kMustMatch, OneOf({"constant", "step", "cosine"})),
        Declare<std::vector<double>>("lr_milestones", &C::lr_milestones, kOptim,
                                     "For --lr_schedule=step: epochs at which lr is multiplied by --lr_gamma, e.g. "
                                     "10,15",
                                     R::kMustMatch,
                                     Each<double>([](double m) { return m > 0; }, "epochs > 0", nullptr)),
        Declare<double>("lr_gamma", &C::lr_gamma, kOptim, "Factor of the step schedule", R::kMustMatch,
                        Rule<double>([](double v) { return v > 0 && v <= 1; }, "0 < gamma <= 1")),
        Declare<double>("warmup_epochs", &C::warmup_epochs, kOptim,
                        "Linear learning-rate warm-up length in epochs (0 = none)", R::kMustMatch,
                        Rule<double>([](double v) { return v >= 0; }, ">= 0")),
        Declare<std::string>("lr_clock", &C::lr_clock, kOptim,
                             "What the learning-rate schedule counts: step (optimizer steps, as the reference: a "
                             "RigL update iteration does not advance it) | batch (batches consumed, the engine before "
                             "0.2.0)",
                             R::kMustMatch, OneOf({"step", "batch"}), "batch"),
        Declare<double>("momentum", &C::momentum, kOptim, "SGD momentum (0 = plain SGD)", R::kMustMatch,
                        Rule<double>([](double v) { return v >= 0 && v < 1; }, "0 <= momentum < 1")),
        Declare<bool>("nesterov", &C::nesterov, kOptim, "Nesterov momentum (the RigL reference's optimizer)",
                      R::kMustMatch, Any<bool>()),
        Declare<double>("weight_decay", &C::weight_decay, kOptim, "L2 weight decay (gradient wd * w) of the kernels",
                        R::kMustMatch,
                        Rule<double>([](double v) { return Finite(v) && v >= 0; }, "a finite number >= 0")),
        Declare<bool>("weight_decay_1d", &C::weight_decay_1d, kOptim,
                      "Also decay 1-D parameters (biases, BatchNorm scale and shift); the reference decays kernels "
                      "only, the engine before 0.2.0 decayed everything",
                      R::kMustMatch, Any<bool>(), true),
        Declare<double>("label_smoothing", &C::label_smoothing, kOptim,
                        "Label smoothing of the cross-entropy, in [0, 1)", R::kMustMatch,
                        Rule<double>([](double v) { return v >= 0 && v < 1; }, "0 <= label_smoothing < 1")),
        Declare<std::string>("optimizer", &C::optimizer, kOptim,
                             "sgd (with --momentum, --nesterov) | adam (beta1 0.9, beta2 0.999, eps 1e-8; "
                             "--weight_decay is L2 added to the gradient, as the paper's GRU)",
                             R::kMustMatch, OneOf({"sgd", "adam"}), "sgd"),
        Declare<double>("clip_grad_norm", &C::clip_grad_norm, kOptim,
                        "Clip the gradients by their global L2 norm (every parameter, before weight decay) to at most "
                        "this; 0 = off (the paper's GRU clips at 10)",
                        R::kMustMatch, Rule<double>([](double v) { return Finite(v) && v >= 0; },
                                                    "a finite number >= 0 (0 = off)"),
                        0.0),
        Declare<uint64_t>("seed", &C::seed, kOptim, "Random seed (data order, masks, initial weights, SET growth)",
                          R::kMustMatch, Any<uint64_t>()),
        Declare<std::string>("data_dir", &C::data_dir, kData,
                             "Directory with the IDX files (train-images-idx3-ubyte.gz etc.); MNIST/KMNIST in the same "
                             "format work",
                             R::kMayChange, Any<std::string>()),
        Declare<std::string>("text_file", &C::text_file, kData,
                             "gru_lm: a UTF-8 or byte text file (split 90/5/5 into train / validation / test, in "
                             "that order) or three comma-separated files train,validation,test (e.g. WikiText-103's "
                             "wiki.train.raw,wiki.valid.raw,wiki.test.raw); tools/setup.sh writes the default, the "
                             "King James Bible",
                             R::kMayChange, Any<std::string>(), ""),
        Declare<int64_t>("train_limit", &C::train_limit, kData, "Use only the first N training samples (0 = all 60000)",
                         R::kMustMatch, Rule<int64_t>([](int64_t v) { return v >= 0; }, ">= 0")),
        Declare<int64_t>("test_limit", &C::test_limit, kData, "Evaluate on only the first N test samples (0 = all 10000)",
                         R::kMayChange, Rule<int64_t>([](int64_t v) { return v >= 0; }, ">= 0")),
        Declare<bool>("augment", &C::augment, kData, "Random crop (pad 2) and horizontal flip of training images",
                      R::kMustMatch, Any<bool>()),
        Declare<std::string>("out_dir", &C::out_dir, kOutputs,
                             "Write config.json, metrics.jsonl, metrics.csv, checkpoint.bin and summary.json here "
                             "(relative paths are resolved against the directory bazel run was started from)",
                             R::kMayChange, Any<std::string>()),
        Declare<bool>("overwrite", &C::overwrite, kOutputs,
                      "Allow a fresh run (no --resume) into an --out_dir that already holds a run's files, replacing "
                      "them, and an --export over an existing file",
                      R::kNotSaved, Any<bool>()),
        Declare<std::string>("export", &C::export_path, kOutputs,
                             "When the run ends, write the model here as safetensors for PyTorch (sparse weights as "
                             "CSR parts; docs/EXPORT.md)",
                             R::kMayChange,
                             Rule<std::string>(
                                 [](const std::string& v) {
                                   const std::string ext = ".safetensors";
                                   return v.empty() || (v.size() > ext.size() &&
                                                        v.compare(v.size() - ext.size(), ext.size(), ext) == 0);
                                 },
                                 "a path ending in .safetensors"),
                             ""),
        Declare<bool>("export_dense", &C::export_dense, kOutputs,
                      "--export writes sparse weights as dense tensors (zeros included) instead of CSR parts",
                      R::kMayChange, Any<bool>(), false),
        Declare<bool>("export_only", &C::export_only, kOutputs,
                      "Export without training: the model as --resume or --init_from leave it (or as initialised), "
                      "then exit; nothing else is written",
                      R::kNotSaved, Any<bool>()),
        Declare<std::string>("resume", &C::resume, kOutputs,
                             "Resume from this checkpoint file (e.g. <out_dir>/checkpoint.bin)", R::kNotSaved,
                             Any<std::string>()),
        Declare<int64_t>("eval_every", &C::eval_every, kOutputs,
                         "Epochs between test-set evaluations (the last epoch is always evaluated)", R::kMayChange,
                         Rule<int64_t>([](int64_t v) { return v >= 1; }, ">= 1")),
        Declare<int64_t>("checkpoint_every", &C::checkpoint_every, kOutputs,
                         "Also checkpoint every N steps (0 = only at the end of each epoch)", R::kMayChange,
                         Rule<int64_t>([](int64_t v) { return v >= 0; }, ">= 0")),
        Declare<int64_t>("stop_after_steps", &C::stop_after_steps, kOutputs,
                         "Stop after N steps, checkpointing first (simulates an interruption)", R::kNotSaved,
                         Rule<int64_t>([](int64_t v) { return v >= 0; }, ">= 0")),
        Declare<double>("time_budget", &C::time_budget, kOutputs,
                        "Stop once training (steps and topology updates, not evaluation) has taken this many seconds, "
                        "then evaluate, checkpoint and write the summary (0 = no budget). Where it stops depends on "
                        "the speed",
                        R::kMayChange,
                        Rule<double>([](double v) { return Finite(v) && v >= 0; },
                                     "a finite number of seconds >= 0 (0 = no budget)"),
                        0.0),
        Declare<std::string>("progress", &C::progress, kOutputs,
                             "Progress display: auto (bar on a terminal, lines otherwise) | bar | lines | none",
                             R::kNotSaved, OneOf({"auto", "bar", "lines", "none"})),
        Declare<bool>("flops_only", &C::flops_only, kOutputs,
                      "Print the per-layer theoretical FLOPs table for --model/--sparsity/--method and exit",
                      R::kNotSaved, Any<bool>()),
        Declare<std::string>("flops_shape", &C::flops_shape, kOutputs,
                             "Input of the --flops_only table: trained (what --model trains here: 28x28x1, 10 "
                             "classes) | imagenet (3x224x224, 1000 classes, as the paper counts MobileNet v1 / v2; "
                             "resnet50 is always ImageNet)",
                             R::kNotSaved, OneOf({"trained", "imagenet"})),
        Declare<int>("threads", &C::threads, kPerf, "OpenMP threads for every kernel", R::kMayChange,
                     Rule<int>([](int v) { return v >= 1 && v <= 1024; }, "1 <= threads <= 1024")),
        Declare<std::string>("layer_kernels", &C::layer_kernels, kPerf,
                             "Kernels of a sparse (CSR) layer: auto (the dense kernels on a dense copy of the weight "
                             "when its density reaches the break-even of its kind of layer, else the sparse ones) | "
                             "sparse | dense. The same gradients either way, in the last bits",
                             R::kMayChange, OneOf({"auto", "sparse", "dense"}), "auto"),
    };
  }();
  return kFields;
}

// Registers every flag before main() parses the command line.
const bool kFlagsRegistered = (Fields(), true);

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
  std::ostringstream out;
  out << "trainer: trains sparse (or dense) networks on Fashion-MNIST (or a GRU language model on byte text) with "
         "RigL and its baselines.\n"
      << "usage: bazel run //:trainer -- [--flag=value ...]   (or bazel-bin/rigl/trainer [--flag=value ...])\n";
  std::vector<const char*> groups;
  for (const Field& f : Fields()) {
    bool seen = false;
    for (const char* g : groups) seen = seen || g == f.group;
    if (!seen) groups.push_back(f.group);
  }
  for (const char* group : groups) {
    out << "\n" << group << ":\n";
    for (const Field& field : Fields()) {
      if (field.group != group) continue;
      const gflags::CommandLineFlagInfo f = gflags::GetCommandLineFlagInfoOrDie(field.name);
      std::string def = f.default_value.empty() ? "\"\"" : f.default_value;
      if (f.type == "double") {
        char shortest[32];
        std::snprintf(shortest, sizeof(shortest), "%g", std::strtod(f.default_value.c_str(), nullptr));
        def = shortest;
      }
      out << "  --" << f.name << "=<" << f.type << ">  (default: " << def << ")\n      " << f.description << "\n";
    }
  }
  out << "\nMethods:\n";
  for (const MethodInfo& m : AllMethods()) out << "  " << m.name << ": " << m.summary << "\n";
  out << "\nExamples:\n"
      << "  bazel run //:trainer                                     # LeNet-300-100, RigL at 90% (ERK), 20 epochs\n"
      << "  bazel run //:trainer -- --method=dense --epochs=20\n"
      << "  bazel run //:trainer -- --method=static --sparsity=0.9 --distribution=uniform\n"
      << "  bazel run //:trainer -- --model=lenet5 --method=set --sparsity=0.95 --out_dir=runs/lenet5_set\n"
      << "  bazel run //:trainer -- --model=lenet5 --method=set --sparsity=0.95 --out_dir=runs/lenet5_set "
         "--resume=runs/lenet5_set/checkpoint.bin\n"
      << "  bazel run //:trainer -- --model=lenet5 --method=set --sparsity=0.95 --resume=runs/lenet5_set/checkpoint.bin "
         "--export=lenet5_set.safetensors --export_only   # for PyTorch: tools/torch_eval.py\n"
      << "  bazel run //:trainer -- --init_from=lenet5_set.safetensors --model=lenet5 --method=rigl --sparsity=0.95\n"
      << "  bazel run //:trainer -- --model=gru_lm --method=rigl --sparsity=0.75 --distribution=uniform "
         "--optimizer=adam --lr=7e-4 --lr_schedule=constant --weight_decay=5e-4 --clip_grad_norm=10 --batch_size=32 "
         "--drop_fraction=0.1 --t_end=1 --epochs=1   # the paper's GRU on the King James Bible\n"
      << "  bazel run //:trainer -- --model=resnet50 --sparsity=0.9 --flops_only\n"
      << "  bazel run //:trainer -- --model=mobilenet_v1 --sparsity=0.9 --flops_only --flops_shape=imagenet\n"
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

TrainConfig ReadFlags() {
  (void)kFlagsRegistered;
  TrainConfig c;
  for (const Field& f : Fields()) f.read_flag(&c);
  return c;
}

TrainConfig ConfigFromFlags() {
  TrainConfig c = ReadFlags();
  ValidateConfig(c);
  return c;
}

const std::vector<std::string>& SupportedBlocks() {
  static const std::vector<std::string> kBlocks = {"1x1", "2x1", "4x1", "8x1", "1x4", "2x2", "4x4"};
  return kBlocks;
}

BlockShape ParseBlock(const std::string& text) {
  OneOf(SupportedBlocks())("block", text);
  const size_t x = text.find('x');
  return {std::stoll(text.substr(0, x)), std::stoll(text.substr(x + 1))};
}

void ValidateConfig(const TrainConfig& c) {
  for (const Field& f : Fields()) f.validate(c);
  // Rules over several fields.
  ENGINE_CHECK(c.block == "1x1" || Info(c.method).sparse_storage, "--block=", c.block, " --method=",
               MethodName(c.method), ": blocks shape a sparse pattern and this method trains a dense model; "
               "expected --block=1x1 or a sparse method");
  ENGINE_CHECK(c.block == "1x1" || (c.method != Method::kRiglGlobal && c.method != Method::kMest), "--block=",
               c.block, " --method=", MethodName(c.method), ": this method changes a layer's nnz, which only CSR "
               "layers can; expected --block=1x1");
  const models::ModelName* model = models::FindModelName(c.model);
  ENGINE_CHECK(c.flops_only || (model != nullptr && model->trainable), "--model=", c.model,
               ": trainable on Fashion-MNIST are ", models::ModelNameList(true), "; expected one of those (", c.model,
               " is available with --flops_only and in //bench)");
  if (c.IsLanguageModel()) {
    ENGINE_CHECK(c.block == "1x1", "--block=", c.block, " --model=gru_lm: the GRU's weights are CSR or dense; expected "
                 "--block=1x1");
    ENGINE_CHECK(!c.augment, "--augment --model=gru_lm: crops and flips are for images; expected --noaugment");
    ENGINE_CHECK(c.distribution != "mnist", "--distribution=mnist --model=gru_lm: the custom map is the MLP's; "
                 "expected uniform, er or erk");
    ENGINE_CHECK(c.flops_shape == "trained", "--flops_shape=", c.flops_shape, " --model=gru_lm: expected trained");
  }
  ENGINE_CHECK(c.flops_shape == "trained" || c.flops_only, "--flops_shape=", c.flops_shape,
               " without --flops_only: training runs on the data set's own shape; expected --flops_only as well");
  ENGINE_CHECK(c.mobilenet_width == 1.0 || c.model.rfind("mobilenet", 0) == 0, "--mobilenet_width=",
               c.mobilenet_width, " --model=", c.model, ": the width multiplier applies to mobilenet_v1 and "
               "mobilenet_v2 only; expected --mobilenet_width=1 (the MLP's widths are --width)");
  ENGINE_CHECK(static_cast<double>(c.epochs) * c.multiplier <= static_cast<double>(kMaxEpochs), "--epochs=", c.epochs,
               " --multiplier=", c.multiplier, ": ", static_cast<double>(c.epochs) * c.multiplier,
               " epochs in all; expected at most ", kMaxEpochs);
  ENGINE_CHECK(c.prune_start < c.prune_end, "--prune_start=", c.prune_start, " --prune_end=", c.prune_end,
               ": expected 0 <= prune_start < prune_end <= 1");
  ENGINE_CHECK(!(c.export_dense || c.export_only) || !c.export_path.empty(), c.export_only ? "--export_only" :
               "--export_dense", " without --export: nothing would be written; expected --export=PATH.safetensors");
  ENGINE_CHECK(c.stop_after_steps == 0 || !c.out_dir.empty(), "--stop_after_steps=", c.stop_after_steps,
               " without --out_dir: the checkpoint would have nowhere to go; expected --out_dir as well");
}

json ConfigToJson(const TrainConfig& c) {
  json j;
  j["version"] = kVersion;
  for (const Field& f : Fields()) {
    if (f.resume != OnResume::kNotSaved) j[f.name] = f.to_json(c);
  }
  return j;
}

TrainConfig ConfigFromJson(const json& j) {
  TrainConfig c;
  for (const Field& f : Fields()) {
    if (f.resume == OnResume::kNotSaved) continue;
    // A key an older version did not write takes the value that reproduces that version's behaviour.
    f.from_json(!j.contains(f.name) && !f.absent.is_null() ? f.absent : j.at(f.name), &c);
  }
  return c;
}

void CheckResumeCompatible(const std::string& path, const json& saved, const TrainConfig& now) {
  const TrainConfig then = ConfigFromJson(saved);
  for (const Field& f : Fields()) {
    if (f.resume != OnResume::kMustMatch) continue;
    const json a = f.to_json(now), b = f.to_json(then);
    ENGINE_CHECK(a == b, "--resume=", path, ": --", f.name, "=", a.dump(), " but the checkpoint was trained with ",
                 b.dump(), "; expected the same value");
  }
}

}  // namespace rigl
