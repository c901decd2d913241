// ResNet-50 v1.5 from engine::nn modules (see resnet50.h).
#include "bench/flops/resnet50.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include "engine/base/check.h"
#include "engine/nn/activations.h"
#include "engine/nn/batch_norm.h"
#include "engine/nn/conv2d.h"
#include "engine/nn/linear.h"
#include "engine/nn/pooling.h"
#include "engine/nn/sequential.h"
#include "engine/ops/activations.h"
#include "engine/ops/add.h"
#include "models/architectures.h"

namespace flopsbench {
namespace {

// A conv with the storage the plan gives its weight (dense when absent), no bias (BatchNorm follows).
std::unique_ptr<engine::nn::Conv2d> MakeConv(const models::NetworkOptions& o, const std::string& name, int64_t cin,
                                             int64_t cout, int64_t kernel, int64_t stride, int64_t pad) {
  const auto it = o.plan.find(name + ".weight");
  const engine::nn::WeightStorage storage = it != o.plan.end() ? it->second : engine::nn::WeightStorage::Dense();
  return std::make_unique<engine::nn::Conv2d>(name, cin, cout, kernel, stride, pad, storage, o.seed,
                                              /*bias=*/false);
}

class Bottleneck : public engine::nn::Module {
 public:
  Bottleneck(const std::string& name, int64_t in, int64_t mid, int64_t stride, const models::NetworkOptions& o)
      : Module(name), bn1_(name + ".bn1", mid), bn2_(name + ".bn2", mid), bn3_(name + ".bn3", 4 * mid) {
    conv1_ = MakeConv(o, name + ".conv1", in, mid, 1, 1, 0);
    conv2_ = MakeConv(o, name + ".conv2", mid, mid, 3, stride, 1);
    conv3_ = MakeConv(o, name + ".conv3", mid, 4 * mid, 1, 1, 0);
    if (in != 4 * mid || stride != 1) {
      downsample_ = MakeConv(o, name + ".downsample.0", in, 4 * mid, 1, stride, 0);
      bn_down_ = std::make_unique<engine::nn::BatchNorm2d>(name + ".downsample.1", 4 * mid);
    }
  }
  engine::Variable Forward(const engine::Variable& x) override {
    engine::Variable y = engine::Relu(bn1_.Forward(conv1_->Forward(x)));
    y = engine::Relu(bn2_.Forward(conv2_->Forward(y)));
    y = bn3_.Forward(conv3_->Forward(y));
    return engine::Relu(engine::Add(y, downsample_ ? bn_down_->Forward(downsample_->Forward(x)) : x));
  }
  void CollectParameters(engine::ParameterList* out) override {
    for (engine::nn::Module* m : std::initializer_list<engine::nn::Module*>{conv1_.get(), &bn1_, conv2_.get(), &bn2_,
                                                                            conv3_.get(), &bn3_}) {
      m->CollectParameters(out);
    }
    if (downsample_) {
      downsample_->CollectParameters(out);
      bn_down_->CollectParameters(out);
    }
  }
  void SetTraining(bool training) override {
    Module::SetTraining(training);
    for (engine::nn::Module* m : std::initializer_list<engine::nn::Module*>{&bn1_, &bn2_, &bn3_}) {
      m->SetTraining(training);
    }
    if (bn_down_) bn_down_->SetTraining(training);
  }

 private:
  engine::nn::BatchNorm2d bn1_, bn2_, bn3_;
  std::unique_ptr<engine::nn::Conv2d> conv1_, conv2_, conv3_, downsample_;
  std::unique_ptr<engine::nn::BatchNorm2d> bn_down_;
};

// Adapts a unique_ptr-made conv to Sequential::Emplace (which constructs in place).
class ConvHolder : public engine::nn::Module {
 public:
  explicit ConvHolder(std::unique_ptr<engine::nn::Conv2d> conv) : Module(conv->name()), conv_(std::move(conv)) {}
  engine::Variable Forward(const engine::Variable& x) override { return conv_->Forward(x); }
  void CollectParameters(engine::ParameterList* out) override { conv_->CollectParameters(out); }

 private:
  std::unique_ptr<engine::nn::Conv2d> conv_;
};

}  // namespace

models::Network BuildResNet50(const models::NetworkOptions& o) {
  ENGINE_CHECK(o.model == "resnet50", "BuildResNet50: model '", o.model, "' given; expected resnet50");
  models::Network net;
  auto seq = std::make_unique<engine::nn::Sequential>();
  seq->Emplace<ConvHolder>(MakeConv(o, "conv1", o.in_channels, 64, 7, 2, 3));
  seq->Emplace<engine::nn::BatchNorm2d>("bn1", 64);
  seq->Emplace<engine::nn::ReluModule>("relu");
  seq->Emplace<engine::nn::MaxPool2dModule>(3, 2, 1, "maxpool");
  int64_t channels = 64;
  const int64_t blocks[4] = {3, 4, 6, 3}, widths[4] = {64, 128, 256, 512};
  for (int s = 0; s < 4; ++s) {
    for (int64_t b = 0; b < blocks[s]; ++b) {
      const std::string name = "layer" + std::to_string(s + 1) + "." + std::to_string(b);
      seq->Emplace<Bottleneck>(name, channels, widths[s], (b == 0 && s > 0) ? 2 : 1, o);
      channels = 4 * widths[s];
    }
  }
  seq->Emplace<engine::nn::GlobalAvgPoolModule>("pool");
  const auto it = o.plan.find("fc.weight");
  const engine::nn::WeightStorage storage = it != o.plan.end() ? it->second : engine::nn::WeightStorage::Dense();
  seq->Emplace<engine::nn::Linear>("fc", channels, o.num_classes, storage, o.seed);
  net.module = std::move(seq);
  net.channel_major_input = true;
  net.layers = models::ResNet50(o.num_classes);
  net.module->CollectParameters(&net.params);
  return net;
}

}  // namespace flopsbench
