// The models the FLOPs benchmark measures and their per-density plans (see bench_model.h).
#include "bench/flops/bench_model.h"

#include <algorithm>

#include "bench/flops/resnet50.h"
#include "engine/base/check.h"
#include "models/architectures.h"
#include "rigl/sparsity_distribution.h"

namespace flopsbench {
namespace {

// Where the bench measures something other than the registry's entry at models::NetworkOptions' defaults (one
// channel of 28x28, 10 classes, built by the registry when it can be, smoke batch 16).
struct Variant {
  const char* model;
  std::vector<models::LayerSpec> (*layers)();  // null: the registry's table
  int64_t in_channels, input_hw, num_classes;
  int64_t smoke_batch;
  models::Network (*build)(const models::NetworkOptions&);  // null: the registry's builder, if it has one
};

const Variant kVariants[] = {
    // CIFAR-10 size, as the paper measures it (the trainer's wrn22_2 is the 28x28x1 Fashion-MNIST variant).
    {"wrn22_2", models::Wrn22x2Cifar, 3, 32, 10, 2, nullptr},
    // ImageNet size. The models package has no ResNet-50 builder; bench/flops/resnet50 builds one for the step.
    // These stay 224x224 under --smoke, so their smoke runs take minutes.
    {"resnet50", nullptr, 3, 224, 1000, 1, BuildResNet50},
    {"mobilenet_v1", nullptr, 3, 224, 1000, 1, nullptr},
    {"mobilenet_v2", nullptr, 3, 224, 1000, 1, nullptr},
};

const Variant* FindVariant(const std::string& model) {
  for (const Variant& v : kVariants) {
    if (model == v.model) return &v;
  }
  return nullptr;
}

// The table must take the network's input, or the plan, the FLOPs and the network built would disagree.
void CheckTakesInput(const BenchModel& m) {
  ENGINE_CHECK(!m.layers.empty(), "bench model ", m.name, ": no weight layers");
  const models::LayerSpec& first = m.layers.front();
  const models::NetworkOptions& n = m.network;
  const int64_t inputs = first.kind == models::LayerSpec::kDense ? n.in_channels * n.input_hw * n.input_hw
                                                                  : n.in_channels;
  ENGINE_CHECK(first.in_channels == inputs, "bench model ", m.name, ": first layer ", first.name, " takes ",
               first.in_channels, " inputs; expected ", inputs, " (the network's input)");
}

}  // namespace

bool IsSequenceModel(const std::string& name) { return name == "gru_lm"; }

BenchModel DescribeBenchModel(const std::string& name, const std::vector<int64_t>& hidden) {
  const models::ModelInfo* info = models::FindModel(name);
  ENGINE_CHECK(info != nullptr, "--model=", name, ": unknown; expected ", models::ModelNameList(false));
  ENGINE_CHECK(!IsSequenceModel(name), "--model=", name, ": a sequence model, which this bench's image-shaped steps "
               "cannot feed; its step times are measured by the trainer (README, section on the GRU): bazel run "
               "//:trainer -- --model=", name, " ...");
  BenchModel m;
  m.name = name;
  m.network.model = name;
  if (name == "mlp") m.network.hidden = hidden;
  m.build = info->build != nullptr ? models::BuildNetwork : nullptr;
  if (const Variant* v = FindVariant(name)) {
    m.network.in_channels = v->in_channels;
    m.network.input_hw = v->input_hw;
    m.network.num_classes = v->num_classes;
    m.smoke_batch = v->smoke_batch;
    if (v->build != nullptr) m.build = v->build;
    if (v->layers != nullptr) m.layers = v->layers();
  }
  if (m.layers.empty()) m.layers = info->layers(m.network);
  CheckTakesInput(m);
  return m;
}

rigl::SparsityPlan MakeBenchPlan(const BenchModel& model, double density, const rigl::TrainConfig& trainer) {
  ENGINE_CHECK(density > 0 && density <= 1, "density ", density, " given; expected 0 < density <= 1");
  rigl::TrainConfig c = trainer;
  c.model = model.name;
  c.sparsity = 1.0 - density;
  c.method = density >= 1.0 ? rigl::Method::kDense : rigl::Method::kStatic;
  c.init_fan = "dense";  // the bench measures the default initialisation
  rigl::SparsityPlan plan = rigl::MakeSparsityPlan(c, model.layers);
  // The storage from the plan, the input (and the builder's other options) from the bench's variant of the model.
  models::NetworkOptions network = model.network;
  network.plan = plan.network.plan;
  network.seed = plan.network.seed;
  plan.network = network;
  return plan;
}

}  // namespace flopsbench
