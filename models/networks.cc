// Network builders (see networks.h).
#include "models/networks.h"

#include <cmath>

#include "engine/base/check.h"
#include "engine/nn/activations.h"
#include "engine/nn/batch_norm.h"
#include "engine/nn/conv2d.h"
#include "engine/nn/flatten.h"
#include "engine/nn/gru.h"
#include "engine/nn/linear.h"
#include "engine/nn/pooling.h"
#include "engine/nn/sequential.h"
#include "engine/ops/activations.h"
#include "engine/ops/add.h"
#include "engine/ops/embedding.h"
#include "models/architectures.h"

namespace models {
namespace {

int64_t Scaled(int64_t width, double multiplier) {
  return std::max<int64_t>(1, static_cast<int64_t>(std::llround(static_cast<double>(width) * multiplier)));
}

// The storage the plan gives a weight of `total` entries (dense when absent).
engine::nn::WeightStorage StorageFor(const NetworkOptions& o, const std::string& weight, int64_t total) {
  const auto it = o.plan.find(weight);
  if (it == o.plan.end() || !it->second.sparse) return engine::nn::WeightStorage::Dense();
  ENGINE_CHECK(it->second.nnz >= 0 && it->second.nnz <= total, "network plan: ", weight, " nnz = ", it->second.nnz,
               "; expected 0 <= nnz <= ", total);
  return it->second;
}

std::vector<int64_t> MlpWidths(const NetworkOptions& o) {
  std::vector<int64_t> widths = {o.in_channels * o.input_hw * o.input_hw};
  for (int64_t h : o.hidden) widths.push_back(Scaled(h, o.width_multiplier));
  widths.push_back(o.num_classes);
  return widths;
}

Network BuildMlp(const NetworkOptions& o) {
  Network net;
  auto seq = std::make_unique<engine::nn::Sequential>();
  const std::vector<int64_t> widths = MlpWidths(o);
  for (size_t l = 0; l + 1 < widths.size(); ++l) {
    const std::string name = "fc" + std::to_string(l + 1);
    const engine::nn::WeightStorage s = StorageFor(o, name + ".weight", widths[l] * widths[l + 1]);
    seq->Emplace<engine::nn::Linear>(name, widths[l], widths[l + 1], s, o.seed, true, o.fan);
    if (l + 2 < widths.size()) seq->Emplace<engine::nn::ReluModule>(name + ".relu");
  }
  net.module = std::move(seq);
  net.channel_major_input = false;
  return net;
}

// LeNet-5 on 28x28x1: conv1 1->6 5x5 pad 2, maxpool 2, conv2 6->16 5x5, maxpool 2, fc 400->120->84->10.
// Small-Dense scales the channel and hidden widths (6, 16, 120, 84).
struct LeNetWidths {
  int64_t c1, c2, f1, f2;
};
LeNetWidths LeNetFor(const NetworkOptions& o) {
  return {Scaled(6, o.width_multiplier), Scaled(16, o.width_multiplier), Scaled(120, o.width_multiplier),
          Scaled(84, o.width_multiplier)};
}

Network BuildLeNet5(const NetworkOptions& o) {
  const LeNetWidths w = LeNetFor(o);
  Network net;
  auto seq = std::make_unique<engine::nn::Sequential>();
  auto conv = [&](const std::string& name, int64_t cin, int64_t cout, int64_t pad) {
    const engine::nn::WeightStorage s = StorageFor(o, name + ".weight", cin * cout * 25);
    seq->Emplace<engine::nn::Conv2d>(name, cin, cout, 5, 1, pad, s, o.seed, true, o.fan);
    seq->Emplace<engine::nn::ReluModule>(name + ".relu");
    seq->Emplace<engine::nn::MaxPool2dModule>(2, 2, 0, name + ".pool");
  };
  auto fc = [&](const std::string& name, int64_t in, int64_t out, bool relu) {
    const engine::nn::WeightStorage s = StorageFor(o, name + ".weight", in * out);
    seq->Emplace<engine::nn::Linear>(name, in, out, s, o.seed, true, o.fan);
    if (relu) seq->Emplace<engine::nn::ReluModule>(name + ".relu");
  };
  conv("conv1", o.in_channels, w.c1, 2);
  conv("conv2", w.c1, w.c2, 0);
  seq->Emplace<engine::nn::FlattenModule>("flatten");
  fc("fc1", w.c2 * 5 * 5, w.f1, true);
  fc("fc2", w.f1, w.f2, true);
  fc("fc3", w.f2, o.num_classes, false);
  net.module = std::move(seq);
  net.channel_major_input = true;
  return net;
}

// Pre-activation wide-ResNet basic block: o = relu(bn1(x)); y = conv2(relu(bn2(conv1(o)))); y + shortcut, where the
// shortcut is x, or a 1x1 conv of o when the shape changes.
class WideBasicBlock : public engine::nn::Module {
 public:
  WideBasicBlock(const std::string& name, int64_t in, int64_t out, int64_t stride, const NetworkOptions& o)
      : Module(name),
        bn1_(name + ".bn1", in),
        bn2_(name + ".bn2", out) {
    auto make = [&](const std::string& conv, int64_t cin, int64_t cout, int64_t k, int64_t st, int64_t pad) {
      const engine::nn::WeightStorage s = StorageFor(o, name + "." + conv + ".weight", cin * cout * k * k);
      return std::make_unique<engine::nn::Conv2d>(name + "." + conv, cin, cout, k, st, pad, s, o.seed,
                                                  /*bias=*/false, o.fan);
    };
    conv1_ = make("conv1", in, out, 3, stride, 1);
    conv2_ = make("conv2", out, out, 3, 1, 1);
    if (in != out || stride != 1) shortcut_ = make("shortcut", in, out, 1, stride, 0);
  }
  engine::Variable Forward(const engine::Variable& x) override {
    const engine::Variable o = engine::Relu(bn1_.Forward(x));
    engine::Variable y = conv1_->Forward(o);
    y = conv2_->Forward(engine::Relu(bn2_.Forward(y)));
    return engine::Add(y, shortcut_ ? shortcut_->Forward(o) : x);
  }
  void CollectParameters(engine::ParameterList* out) override {
    bn1_.CollectParameters(out);
    conv1_->CollectParameters(out);
    bn2_.CollectParameters(out);
    conv2_->CollectParameters(out);
    if (shortcut_) shortcut_->CollectParameters(out);
  }
  void CollectBuffers(std::vector<std::pair<std::string, engine::Tensor*>>* out) override {
    bn1_.CollectBuffers(out);
    bn2_.CollectBuffers(out);
  }
  void SetTraining(bool training) override {
    Module::SetTraining(training);
    bn1_.SetTraining(training);
    bn2_.SetTraining(training);
  }

 private:
  engine::nn::BatchNorm2d bn1_, bn2_;
  std::unique_ptr<engine::nn::Conv2d> conv1_, conv2_, shortcut_;
};

// WRN-22-2 (pre-activation): conv1 ->16, three groups of 3 blocks (32, 64, 128 channels; strides 1, 2, 2),
// bn-relu, global average pool, fc. Names match models::WideResNet.
Network BuildWrn22x2(const NetworkOptions& o) {
  ENGINE_CHECK(o.width_multiplier == 1.0, "model wrn22_2: width multiplier ", o.width_multiplier,
               " given; expected 1 (Small-Dense is available for mlp and lenet5)");
  Network net;
  auto seq = std::make_unique<engine::nn::Sequential>();
  {
    const engine::nn::WeightStorage s = StorageFor(o, "conv1.weight", o.in_channels * 16 * 9);
    seq->Emplace<engine::nn::Conv2d>("conv1", o.in_channels, 16, 3, 1, 1, s, o.seed, false, o.fan);
  }
  int64_t channels = 16;
  const int64_t widths[3] = {32, 64, 128}, strides[3] = {1, 2, 2};
  for (int g = 0; g < 3; ++g) {
    for (int b = 0; b < 3; ++b) {
      const std::string name = "layer" + std::to_string(g + 1) + "." + std::to_string(b);
      seq->Emplace<WideBasicBlock>(name, channels, widths[g], b == 0 ? strides[g] : 1, o);
      channels = widths[g];
    }
  }
  seq->Emplace<engine::nn::BatchNorm2d>("bn", channels);
  seq->Emplace<engine::nn::ReluModule>("relu");
  seq->Emplace<engine::nn::GlobalAvgPoolModule>("pool");
  const engine::nn::WeightStorage s = StorageFor(o, "fc.weight", channels * o.num_classes);
  seq->Emplace<engine::nn::Linear>("fc", channels, o.num_classes, s, o.seed, true, o.fan);
  net.module = std::move(seq);
  net.channel_major_input = true;
  return net;
}

// torchvision's InvertedResidual (and, without the add, MobileNet v1's depthwise-separable block): the body's
// modules in order, plus x when the block keeps its shape (stride 1, in == out).
class MobileNetBlockModule : public engine::nn::Module {
 public:
  MobileNetBlockModule(const std::string& name, bool residual) : Module(name), residual_(residual) {}
  engine::nn::Sequential& body() { return body_; }
  engine::Variable Forward(const engine::Variable& x) override {
    const engine::Variable y = body_.Forward(x);
    return residual_ ? engine::Add(x, y) : y;
  }
  void CollectParameters(engine::ParameterList* out) override { body_.CollectParameters(out); }
  void CollectBuffers(std::vector<std::pair<std::string, engine::Tensor*>>* out) override {
    body_.CollectBuffers(out);
  }
  void SetTraining(bool training) override {
    Module::SetTraining(training);
    body_.SetTraining(training);
  }

 private:
  engine::nn::Sequential body_;
  bool residual_;
};

models::MobileNetOptions MobileNetOptionsFor(const NetworkOptions& o) {
  models::MobileNetOptions m;
  m.in_channels = o.in_channels, m.input_hw = o.input_hw, m.num_classes = o.num_classes;
  m.width = o.mobilenet_width * o.width_multiplier;
  return m;
}

// MobileNet v1 or v2 from its layout (architectures.h): conv-BN-ReLU6 stem, the blocks, (v2) the last 1x1 conv,
// global average pool, classifier. Convs carry no bias (batch norm follows each); v1's pointwise convs are followed
// by ReLU6, v2's projections are linear. No dropout before the classifier (torchvision has 0.2).
Network BuildMobileNet(const NetworkOptions& o, const MobileNetLayout& l) {
  Network net;
  auto seq = std::make_unique<engine::nn::Sequential>();
  // A conv of the plan's storage, then its batch norm and (when relu6) ReLU6, appended to `to`.
  auto conv_bn = [&o](engine::nn::Sequential& to, const std::string& conv, const std::string& bn, int64_t cin,
                      int64_t cout, int64_t k, int64_t stride, bool relu6) {
    const engine::nn::WeightStorage s = StorageFor(o, conv + ".weight", cin * cout * k * k);
    to.Emplace<engine::nn::Conv2d>(conv, cin, cout, k, stride, k / 2, s, o.seed, /*bias=*/false, o.fan);
    to.Emplace<engine::nn::BatchNorm2d>(bn, cout);
    if (relu6) to.Emplace<engine::nn::Relu6Module>(bn + ".relu6");
  };
  conv_bn(*seq, "features.0.0", "features.0.1", l.in_channels, l.stem_channels, 3, l.stem_stride, true);
  for (const MobileNetBlock& b : l.blocks) {
    auto* block = seq->Emplace<MobileNetBlockModule>(b.name, b.residual);
    if (!b.expand.empty()) conv_bn(block->body(), b.expand, b.expand_bn, b.in, b.hidden, 1, 1, true);
    block->body().Emplace<engine::nn::DepthwiseConv2d>(b.depthwise, b.hidden, 3, b.stride, 1, o.seed);
    block->body().Emplace<engine::nn::BatchNorm2d>(b.depthwise_bn, b.hidden);
    block->body().Emplace<engine::nn::Relu6Module>(b.depthwise_bn + ".relu6");
    conv_bn(block->body(), b.project, b.project_bn, b.hidden, b.out, 1, 1, /*relu6=*/l.version == 1);
  }
  if (l.last_channels > 0) {
    conv_bn(*seq, l.last_conv, l.last_bn, l.blocks.back().out, l.last_channels, 1, 1, true);
  }
  seq->Emplace<engine::nn::GlobalAvgPoolModule>("pool");
  const engine::nn::WeightStorage s = StorageFor(o, "classifier.1.weight", l.classifier_in * l.num_classes);
  seq->Emplace<engine::nn::Linear>("classifier.1", l.classifier_in, l.num_classes, s, o.seed, true, o.fan);
  net.module = std::move(seq);
  net.channel_major_input = true;
  return net;
}

// The GRU language model's widths at the options' Small-Dense multiplier.
GruLmOptions GruLmFor(const NetworkOptions& o) {
  GruLmOptions g = o.gru;
  g.hidden = Scaled(g.hidden, o.width_multiplier);
  for (int64_t& w : g.readout) w = Scaled(w, o.width_multiplier);
  return g;
}

std::vector<LayerSpec> GruLmLayers(const NetworkOptions& o) {
  const GruLmOptions g = GruLmFor(o);
  return GruLanguageModel(g.vocabulary, g.embedding, g.hidden, g.readout, g.seq_len);
}

// x [T + 1, B] byte values -> embedding of rows 0..T-1 -> GRU -> readout (Linear + ReLU, the last Linear without)
// -> logits [vocabulary, T * B].
class GruLmModule : public engine::nn::Module {
 public:
  GruLmModule(const NetworkOptions& o, const GruLmOptions& g) {
    engine::Rng rng = engine::Rng::Stream(o.seed, engine::nn::NameHash("embedding.weight"));
    engine::Tensor table({g.vocabulary, g.embedding});
    // PyTorch's nn.Embedding default, N(0, 1).
    for (int64_t i = 0; i < table.size(); ++i) table[i] = static_cast<float>(rng.Normal());
    embedding_ = std::make_unique<engine::DenseParameter>("embedding.weight", std::move(table));
    const auto layers = GruLanguageModel(g.vocabulary, g.embedding, g.hidden, g.readout, g.seq_len);
    gru_ = std::make_unique<engine::nn::Gru>("gru", g.embedding, g.hidden,
                                             StorageFor(o, layers[0].name, layers[0].N()),
                                             StorageFor(o, layers[1].name, layers[1].N()), o.seed, o.fan);
    for (size_t l = 2; l < layers.size(); ++l) {
      const std::string name = "fc" + std::to_string(l - 1);
      readout_.Emplace<engine::nn::Linear>(name, layers[l].in_channels, layers[l].out_channels,
                                           StorageFor(o, layers[l].name, layers[l].N()), o.seed, true, o.fan);
      if (l + 1 < layers.size()) readout_.Emplace<engine::nn::ReluModule>(name + ".relu");
    }
  }

  engine::Variable Forward(const engine::Variable& x) override {
    ENGINE_CHECK(x.value().rank() == 2 && x.shape()[0] >= 2, "gru_lm: input has shape ", x.value().ShapeString(),
                 "; expected [seq_len + 1, batch] byte values");
    const int64_t steps = x.shape()[0] - 1, batch = x.shape()[1];
    const engine::ConstDenseView inputs{x.value().data(), steps, batch, batch};
    return readout_.Forward(gru_->Forward(engine::Embedding(inputs, *embedding_), steps));
  }
  void CollectParameters(engine::ParameterList* out) override {
    out->dense.push_back(embedding_.get());
    gru_->CollectParameters(out);
    readout_.CollectParameters(out);
  }
  void SetTraining(bool training) override {
    Module::SetTraining(training);
    readout_.SetTraining(training);
  }

 private:
  std::unique_ptr<engine::DenseParameter> embedding_;
  std::unique_ptr<engine::nn::Gru> gru_;
  engine::nn::Sequential readout_;
};

Network BuildGruLm(const NetworkOptions& o) {
  Network net;
  net.module = std::make_unique<GruLmModule>(o, GruLmFor(o));
  net.sequence_model = true;
  return net;
}

std::vector<LayerSpec> LeNet5Layers(const NetworkOptions& o) {
  if (o.width_multiplier == 1.0) return LeNet5();
  // The same table at Small-Dense widths.
  const LeNetWidths w = LeNetFor(o);
  std::vector<LayerSpec> layers = LeNet5();
  layers[0].out_channels = w.c1;
  layers[1].in_channels = w.c1;
  layers[1].out_channels = w.c2;
  layers[2].in_channels = w.c2 * 25;
  layers[2].out_channels = w.f1;
  layers[3].in_channels = w.f1;
  layers[3].out_channels = w.f2;
  layers[4].in_channels = w.f2;
  return layers;
}

}  // namespace

const std::vector<ModelInfo>& AllModels() {
  // Each model of models::ModelNames() with its layer table and (trainable ones) its builder.
  struct Entry {
    const char* name;
    std::vector<LayerSpec> (*layers)(const NetworkOptions&);
    Network (*build)(const NetworkOptions&);
  };
  static const Entry kEntries[] = {
      {"mlp", [](const NetworkOptions& o) { return Mlp(MlpWidths(o)); }, BuildMlp},
      {"lenet5", LeNet5Layers, BuildLeNet5},
      {"wrn22_2", [](const NetworkOptions&) { return Wrn22x2Mnist(); }, BuildWrn22x2},
      {"resnet50", [](const NetworkOptions&) { return ResNet50(); }, nullptr},
      {"gru_lm", GruLmLayers, BuildGruLm},
      {"mobilenet_v1", [](const NetworkOptions& o) { return MobileNetV1(MobileNetOptionsFor(o)); },
       [](const NetworkOptions& o) { return BuildMobileNet(o, MobileNetV1Layout(MobileNetOptionsFor(o))); }},
      {"mobilenet_v2", [](const NetworkOptions& o) { return MobileNetV2(MobileNetOptionsFor(o)); },
       [](const NetworkOptions& o) { return BuildMobileNet(o, MobileNetV2Layout(MobileNetOptionsFor(o))); }},
  };
  static const std::vector<ModelInfo> kModels = [] {
    std::vector<ModelInfo> models;
    for (const ModelName& n : ModelNames()) {
      const Entry* e = nullptr;
      for (const Entry& x : kEntries) e = std::string(x.name) == n.name ? &x : e;
      ENGINE_CHECK(e != nullptr && (e->build != nullptr) == n.trainable, "models::AllModels: model ", n.name,
                   " has no layer table or its builder disagrees with models::ModelNames()");
      models.push_back({n.name, n.summary, e->layers, e->build});
    }
    return models;
  }();
  return kModels;
}

// Built before main(), as the flag table used to build it: a table first allocated in the middle of a run sits above
// the run's freed buffers and keeps the heap from reusing them whole (memory_scaling_test's 40 MiB cap caught it).
const bool kModelsBuilt = !AllModels().empty();

const ModelInfo* FindModel(const std::string& name) {
  for (const ModelInfo& m : AllModels()) {
    if (name == m.name) return &m;
  }
  return nullptr;
}

std::vector<LayerSpec> NetworkLayers(const NetworkOptions& o) {
  const ModelInfo* m = FindModel(o.model);
  ENGINE_CHECK(m != nullptr, "model '", o.model, "': unknown; expected ", ModelNameList(false));
  return m->layers(o);
}

Network BuildNetwork(const NetworkOptions& o) {
  const ModelInfo* m = FindModel(o.model);
  ENGINE_CHECK(m != nullptr && m->build != nullptr, "model '", o.model, "': not buildable; expected ",
               ModelNameList(true));
  Network net = m->build(o);
  net.layers = NetworkLayers(o);
  net.module->CollectParameters(&net.params);
  // Every plan key must name a weight of this model.
  for (const auto& [name, plan] : o.plan) {
    bool found = false;
    for (const LayerSpec& l : net.layers) found = found || l.name == name;
    ENGINE_CHECK(found, "network plan: '", name, "' is not a weight of model ", o.model);
  }
  return net;
}

}  // namespace models
