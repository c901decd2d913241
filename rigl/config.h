// TrainConfig: every setting of a training run. Each field is declared once, in the table of config.cc, and that
// declaration drives its flag (name, type, default, help group and text), its validation rule, its JSON form in
// config.json and checkpoints (and the value assumed when an older checkpoint lacks it), and whether it may change on
// --resume. A bad flag raises engine::Error naming the flag, the value given and the rule; trainer_main turns that
// into exit code 2. Adding a setting: a member here and one entry in the table.
#ifndef RIGL_CONFIG_H_
#define RIGL_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rigl/method.h"

namespace rigl {

// Upper limits of the flags a typo can blow up (a run that would never end, an index type overflowed).
inline constexpr int64_t kMaxEpochs = 1000000;
inline constexpr double kMaxMultiplier = 1000;
inline constexpr int64_t kMaxBatchSize = int64_t{1} << 20;
inline constexpr int64_t kMaxWidth = (int64_t{1} << 31) - 1;

// A --block value parsed: rows x cols of one block.
struct BlockShape {
  int64_t rows = 1;
  int64_t cols = 1;
  bool unstructured() const { return rows == 1 && cols == 1; }
};
// The supported --block values (those every BSR kernel runs on a vector tile), in the order --help lists them.
const std::vector<std::string>& SupportedBlocks();
// "4x1" -> {4, 1}. Throws engine::Error naming --block, the value and SupportedBlocks() for anything else.
BlockShape ParseBlock(const std::string& text);

struct TrainConfig {
  // Model and data.
  std::string model = "mlp";             // models::ModelNames()
  std::vector<int64_t> width = {300, 100};  // MLP hidden widths
  double mobilenet_width = 1.0;              // MobileNet's width multiplier alpha
  // gru_lm (the paper's character-level GRU, RIGL.md 3.8): embedding, GRU state and readout widths, sequence length.
  int64_t embedding_dim = 128;
  int64_t gru_hidden = 512;
  std::vector<int64_t> readout = {256, 128};
  int64_t seq_len = 512;
  std::string text_file = "/var/lib/rigl/kjv.txt";  // gru_lm's data: one file (split 90/5/5) or train,valid,test
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  int64_t train_limit = 0;  // use only the first N training samples (0 = all); for smoke runs and tests
  int64_t test_limit = 0;
  bool augment = false;
  // Optimisation.
  int64_t epochs = 20;
  int64_t batch_size = 128;
  double lr = 0.05;
  double momentum = 0.9;
  bool nesterov = true;
  double weight_decay = 1e-4;
  bool weight_decay_1d = false;        // also decay biases and BatchNorm parameters (the reference decays kernels only)
  double label_smoothing = 0.0;
  std::string optimizer = "sgd";  // sgd (momentum, Nesterov) | adam (--weight_decay as L2 added to the gradient)
  double clip_grad_norm = 0;      // > 0: scale the step's gradients so that their global L2 norm is at most this
  std::string lr_schedule = "cosine";  // constant | step | cosine
  std::vector<double> lr_milestones;   // epochs, for step
  double lr_gamma = 0.1;
  double warmup_epochs = 0;
  std::string lr_clock = "step";       // step: the schedule follows the optimizer's step count (the reference) | batch
  // Sparsity.
  Method method = Method::kRigl;
  double sparsity = 0.9;
  std::string distribution = "erk";  // uniform | er | erk | mnist
  std::string block = "1x1";         // RxC: sparsity in blocks of R rows x C cols of each weight; 1x1 = CSR
  bool first_layer_dense = false;
  double erk_power_scale = 1.0;
  int64_t delta_t = 100;
  double drop_fraction = 0.3;
  double t_end = 0.75;                  // fraction of training after which updates stop
  std::string drop_schedule = "cosine";  // cosine | constant | inverse_power
  double drop_power = 3.0;               // k of inverse_power
  double multiplier = 1.0;               // RigL_Mx: training length multiplier
  double snfs_momentum = 0.9;
  double global_floor = 0.25;
  double mest_lambda = 1.0;    // mest: the drop score is |w| + mest_lambda x |dL/dw| (stored gradient)  // rigl_global: a layer keeps at least this fraction of its distribution's nnz
  double prune_start = 0.1;   // fraction of training where gradual pruning starts
  double prune_end = 0.75;    // ... and ends
  int64_t prune_frequency = 100;  // steps between pruning recomputations
  int64_t grow_tile_rows = 0;     // rows per dense-gradient tile for RigL's grow step (0 = automatic)
  std::string init_fan = "dense";  // dense | stored: fans of a sparse weight's initialiser (engine/nn/init.h)
  std::string init_from;  // safetensors file whose weights start the run (rigl/export); not read on --resume
  // Run control.
  uint64_t seed = 0;
  int threads = 2;
  std::string layer_kernels = "auto";  // auto | sparse | dense: a CSR layer's kernels (engine/ops/layer_kernels.h)
  std::string out_dir;     // empty = no files
  std::string resume;      // checkpoint path to resume from
  int64_t eval_every = 1;  // epochs between test evaluations (the last epoch is always evaluated)
  int64_t checkpoint_every = 0;  // steps between extra checkpoints (0 = at each epoch end only)
  int64_t stop_after_steps = 0;  // stop (after checkpointing) once this many steps are done; simulates interruption
  double time_budget = 0;        // seconds of training (steps + updates, not evaluation) after which to stop; 0 = none
  bool flops_only = false;
  std::string flops_shape = "trained";  // --flops_only's input: trained (28x28x1) | imagenet (3x224x224)
  bool overwrite = false;         // allow a fresh run into an --out_dir that already holds a run's files
  std::string export_path;  // --export: write the trained model here as safetensors when the run ends (rigl/export)
  bool export_dense = false;  // ... with sparse weights as dense tensors instead of CSR parts
  bool export_only = false;   // build (and --resume or --init_from), export, and exit without training
  std::string progress = "auto";  // auto | bar | lines | none

  bool IsLanguageModel() const { return model == "gru_lm"; }
  bool IsSparseMethod() const { return Info(method).sparse_storage; }
};

// Reads the flags (after gflags::ParseCommandLineFlags) into a validated config.
TrainConfig ConfigFromFlags();
// The same without ValidateConfig, for programs (//bench:flops) that read a few of the trainer's flags and apply
// their own rules. Throws only for values that have no TrainConfig form (e.g. an unknown --method).
TrainConfig ReadFlags();
// Before gflags parses argv: checks that every --name=value names a flag of this program and that its value has the
// flag's type and range (gflags would print its own message and exit 1). Throws engine::Error naming the flag and
// the value; trainer_main turns that into exit code 2 like every other bad flag.
void CheckFlagSyntax(int argc, char** argv);
// What `trainer --help` prints: the trainer's own flags, grouped (model; method and sparsity; topology schedule;
// optimisation; data; outputs and resume; performance), each with its type, default and rule, then worked examples.
// The flag library's own flags are left to --helpfull.
std::string TrainerHelp();
// Checks every rule; throws engine::Error naming the flag (as --name), the value and the rule.
void ValidateConfig(const TrainConfig& config);

// Every saved field (not the run-control ones such as --resume or --progress), plus "version".
nlohmann::json ConfigToJson(const TrainConfig& config);
// Keys an older checkpoint lacks take the value that reproduces that version's behaviour.
TrainConfig ConfigFromJson(const nlohmann::json& j);
// Throws engine::Error naming --resume=path, the first setting that shapes the run and differs between `saved` (the
// checkpoint's config) and `now`, and both values. Settings that may change on resume (threads, output and
// evaluation cadence, data directory, ...) are not compared.
void CheckResumeCompatible(const std::string& path, const nlohmann::json& saved, const TrainConfig& now);

// Parses "300,100" into {300, 100}; names `flag` in errors.
std::vector<int64_t> ParseIntList(const std::string& flag, const std::string& text);
std::vector<double> ParseDoubleList(const std::string& flag, const std::string& text);

inline constexpr char kVersion[] = "0.2.0";

}  // namespace rigl

#endif  // RIGL_CONFIG_H_
