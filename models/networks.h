// Network builders: real, trainable models (engine::nn modules) for the trainer. Each weight-carrying layer's
// storage comes from a plan (weight name -> exact nnz, or dense), so the sparsity distributions of rigl/ plug
// straight in. Layer names match the tables of models/architectures.h, which the FLOPs accounting uses.
#ifndef MODELS_NETWORKS_H_
#define MODELS_NETWORKS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/autograd/parameter.h"
#include "engine/nn/init.h"
#include "engine/nn/module.h"
#include "models/layer_spec.h"
#include "models/model_names.h"

namespace models {

// How one weight is stored (engine/nn/init.h): dense, or CSR with exactly nnz entries.
using WeightPlan = engine::nn::WeightStorage;

// The character-level GRU language model (the RigL paper's WikiText-103 model, RIGL.md 3.8): bytes -> embedding ->
// one GRU layer -> ReLU readout layers -> logits over the vocabulary at every position.
struct GruLmOptions {
  int64_t vocabulary = 256;
  int64_t embedding = 128;
  int64_t hidden = 512;
  std::vector<int64_t> readout = {256, 128};
  int64_t seq_len = 512;  // time steps per sequence: the FLOPs of one sample are those of seq_len positions
};

struct NetworkOptions {
  std::string model = "mlp";                 // a models::ModelNames() entry
  std::vector<int64_t> hidden = {300, 100};  // MLP hidden widths
  int64_t in_channels = 1;
  int64_t input_hw = 28;
  int64_t num_classes = 10;
  double width_multiplier = 1.0;  // Small-Dense: scales every hidden width / channel count
  double mobilenet_width = 1.0;   // MobileNet's width multiplier alpha (times width_multiplier)
  GruLmOptions gru;                // model gru_lm (width_multiplier scales hidden and readout)
  std::map<std::string, WeightPlan> plan;  // by weight name ("fc1.weight"); absent = dense
  uint64_t seed = 0;
  engine::nn::FanMode fan = engine::nn::FanMode::kDense;  // fans of a sparse weight's initialiser
};

struct Network {
  std::unique_ptr<engine::nn::Module> module;
  engine::ParameterList params;
  bool channel_major_input = false;  // true: input [C, N, H, W]; false: [features, N]
  // A language model: the input is x [seq_len + 1, N] of byte values, the output logits [vocabulary, seq_len * N]
  // (column t * N + b predicts x[t + 1, b]; engine/data/text.h's NextByteTargets gives the labels).
  bool sequence_model = false;
  std::vector<LayerSpec> layers;     // the weight-carrying layers, as the FLOPs accounting sees them
};

// The models, in --help order: each has a layer table (for FLOPs); the trainable ones also build real modules.
struct ModelInfo {
  const char* name;     // the --model value
  const char* summary;  // one line for --help
  std::vector<LayerSpec> (*layers)(const NetworkOptions&);
  Network (*build)(const NetworkOptions&);  // null: FLOPs tables and benchmarks only
};
// In models::ModelNames() order (model_names.h, which also gives ModelNameList).
const std::vector<ModelInfo>& AllModels();
const ModelInfo* FindModel(const std::string& name);  // null if unknown

// The layer table of a model under these options (hidden widths scaled by width_multiplier).
std::vector<LayerSpec> NetworkLayers(const NetworkOptions& options);
// Builds the model; checks that every plan key names a weight of the model.
Network BuildNetwork(const NetworkOptions& options);

}  // namespace models

#endif  // MODELS_NETWORKS_H_
