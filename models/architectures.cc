// Architecture tables (see architectures.h). Spatial sizes are tracked as the real forward pass produces them; only
// the input_hw recorded for a layer follows the counter's view (explicit Keras zero padding included).
#include "models/architectures.h"

#include <algorithm>
#include <string>

#include "engine/base/check.h"

namespace models {
namespace {

using engine::internal::Cat;

LayerSpec Conv(std::string name, int64_t k, int64_t cin, int64_t cout, int64_t input_hw, int64_t stride,
               bool maskable = true) {
  LayerSpec l;
  l.name = std::move(name);
  l.kind = LayerSpec::kConv;
  l.kernel_h = l.kernel_w = k;
  l.in_channels = cin;
  l.out_channels = cout;
  l.input_hw = input_hw;
  l.stride = stride;
  l.maskable = maskable;
  return l;
}

// Depthwise 3x3 with depth multiplier 1; never maskable (RIGL.md §1.1).
LayerSpec Depthwise(std::string name, int64_t channels, int64_t input_hw, int64_t stride) {
  LayerSpec l = Conv(std::move(name), 3, channels, channels, input_hw, stride, /*maskable=*/false);
  l.kind = LayerSpec::kDepthwiseConv;
  return l;
}

LayerSpec Dense(std::string name, int64_t cin, int64_t cout, bool maskable = true) {
  LayerSpec l;
  l.name = std::move(name);
  l.kind = LayerSpec::kDense;
  l.in_channels = cin;
  l.out_channels = cout;
  l.maskable = maskable;
  return l;
}

// The side Keras feeds a stride-2 'valid' conv after ZeroPadding2D(correct_pad): even sides gain one row/column
// ((0,1) padding), odd sides two ((1,1)). Stride-1 layers use 'same' padding and see the raw side.
int64_t KerasPaddedSide(int64_t hw, int64_t stride) {
  if (stride == 1) return hw;
  return hw % 2 == 0 ? hw + 1 : hw + 2;
}

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

std::vector<LayerSpec> Mlp(const std::vector<int64_t>& widths) {
  ENGINE_CHECK(widths.size() >= 2, "Mlp: ", widths.size(), " widths given; expected at least {inputs, outputs}");
  std::vector<LayerSpec> layers;
  for (size_t i = 0; i + 1 < widths.size(); ++i) {
    ENGINE_CHECK(widths[i] > 0 && widths[i + 1] > 0, "Mlp: width ", i, " or ", i + 1, " is not positive (",
                 widths[i], ", ", widths[i + 1], "); expected every width > 0");
    layers.push_back(Dense(Cat("fc", i + 1, ".weight"), widths[i], widths[i + 1]));
  }
  return layers;
}

std::vector<LayerSpec> LeNet5() {
  return {Conv("conv1.weight", 5, 1, 6, /*input_hw=*/28, 1),   // pad 2: 28x28 out, then maxpool -> 14
          Conv("conv2.weight", 5, 6, 16, /*input_hw=*/14, 1),  // valid: 10x10 out, then maxpool -> 5
          Dense("fc1.weight", 16 * 5 * 5, 120), Dense("fc2.weight", 120, 84), Dense("fc3.weight", 84, 10)};
}

std::vector<LayerSpec> WideResNet(int64_t depth, int64_t width, int64_t in_channels, int64_t input_hw,
                                  int64_t num_classes) {
  ENGINE_CHECK(depth >= 10 && (depth - 4) % 6 == 0, "WideResNet: depth = ", depth,
               "; expected depth = 6n + 4 with n >= 1");
  ENGINE_CHECK(width > 0 && in_channels > 0 && input_hw > 0 && num_classes > 0, "WideResNet: width = ", width,
               ", in_channels = ", in_channels, ", input_hw = ", input_hw, ", num_classes = ", num_classes,
               "; expected all > 0");
  const int64_t blocks = (depth - 4) / 6;
  std::vector<LayerSpec> layers;
  layers.push_back(Conv("conv1.weight", 3, in_channels, 16, input_hw, 1, /*maskable=*/false));
  int64_t channels = 16, hw = input_hw;
  const int64_t group_width[3] = {16 * width, 32 * width, 64 * width};
  const int64_t group_stride[3] = {1, 2, 2};
  for (int g = 0; g < 3; ++g) {
    for (int64_t b = 0; b < blocks; ++b) {
      const std::string prefix = Cat("layer", g + 1, ".", b, ".");
      const int64_t stride = b == 0 ? group_stride[g] : 1;
      const int64_t out = group_width[g];
      const int64_t out_hw = CeilDiv(hw, stride);
      layers.push_back(Conv(prefix + "conv1.weight", 3, channels, out, hw, stride));
      layers.push_back(Conv(prefix + "conv2.weight", 3, out, out, out_hw, 1));
      if (channels != out || stride != 1) layers.push_back(Conv(prefix + "shortcut.weight", 1, channels, out, hw, stride));
      channels = out;
      hw = out_hw;
    }
  }
  layers.push_back(Dense("fc.weight", channels, num_classes));
  return layers;
}

std::vector<LayerSpec> Wrn22x2Cifar() { return WideResNet(22, 2, 3, 32, 10); }
std::vector<LayerSpec> Wrn22x2Mnist() { return WideResNet(22, 2, 1, 28, 10); }

std::vector<LayerSpec> ResNet50(int64_t num_classes) {
  ENGINE_CHECK(num_classes > 0, "ResNet50: num_classes = ", num_classes, "; expected > 0");
  std::vector<LayerSpec> layers;
  // Keras ZeroPadding2D(3) before a 'valid' 7x7/2 conv: the counter sees 230 (quirk 1); the real output is 112.
  layers.push_back(Conv("conv1.weight", 7, 3, 64, /*input_hw=*/230, 2));
  int64_t channels = 64, hw = 56;  // after the 3x3/2 max pool
  const int64_t stage_blocks[4] = {3, 4, 6, 3};
  const int64_t stage_width[4] = {64, 128, 256, 512};
  for (int s = 0; s < 4; ++s) {
    for (int64_t b = 0; b < stage_blocks[s]; ++b) {
      const std::string prefix = Cat("layer", s + 1, ".", b, ".");
      const int64_t stride = (b == 0 && s > 0) ? 2 : 1;
      const int64_t mid = stage_width[s], out = 4 * stage_width[s];
      const int64_t out_hw = CeilDiv(hw, stride);
      layers.push_back(Conv(prefix + "conv1.weight", 1, channels, mid, hw, 1));
      layers.push_back(Conv(prefix + "conv2.weight", 3, mid, mid, hw, stride));  // v1.5: stride on the 3x3
      layers.push_back(Conv(prefix + "conv3.weight", 1, mid, out, out_hw, 1));
      if (b == 0) layers.push_back(Conv(prefix + "downsample.0.weight", 1, channels, out, hw, stride));
      channels = out;
      hw = out_hw;
    }
  }
  layers.push_back(Dense("fc.weight", channels, num_classes));
  return layers;
}

int64_t MakeDivisible(double v) {
  int64_t rounded = std::max<int64_t>(8, static_cast<int64_t>(v + 4.0) / 8 * 8);
  if (static_cast<double>(rounded) < 0.9 * v) rounded += 8;
  return rounded;
}

namespace {

void CheckMobileNetOptions(const char* what, const MobileNetOptions& o) {
  ENGINE_CHECK(o.in_channels > 0 && o.input_hw > 0 && o.num_classes > 0 && o.width > 0, what, ": in_channels = ",
               o.in_channels, ", input_hw = ", o.input_hw, ", num_classes = ", o.num_classes, ", width = ", o.width,
               "; expected all > 0");
}

MobileNetLayout LayoutStem(int version, const MobileNetOptions& o) {
  MobileNetLayout l;
  l.version = version;
  l.imagenet = o.input_hw >= 96;
  l.in_channels = o.in_channels, l.input_hw = o.input_hw, l.num_classes = o.num_classes;
  l.stem_channels = MakeDivisible(32 * o.width);
  l.stem_stride = l.imagenet ? 2 : 1;
  return l;
}

}  // namespace

MobileNetLayout MobileNetV1Layout(const MobileNetOptions& o) {
  CheckMobileNetOptions("MobileNetV1", o);
  MobileNetLayout l = LayoutStem(1, o);
  int64_t channels = l.stem_channels, hw = CeilDiv(o.input_hw, l.stem_stride);
  // (pointwise filters, depthwise stride) of the 13 depthwise-separable blocks.
  const int64_t blocks[13][2] = {{64, 1},  {128, 2}, {128, 1}, {256, 2}, {256, 1}, {512, 2},  {512, 1},
                                 {512, 1}, {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1}};
  for (int i = 0; i < 13; ++i) {
    MobileNetBlock b;
    const std::string f = Cat("features.", i + 1, ".");
    b.name = Cat("features.", i + 1);
    b.in = b.hidden = channels, b.out = MakeDivisible(blocks[i][0] * o.width), b.stride = blocks[i][1];
    b.in_hw = hw;
    b.depthwise = f + "0", b.depthwise_bn = f + "1", b.project = f + "3", b.project_bn = f + "4";
    l.blocks.push_back(b);
    channels = b.out;
    hw = CeilDiv(hw, b.stride);
  }
  l.final_hw = hw;
  l.classifier_in = channels;
  return l;
}

MobileNetLayout MobileNetV2Layout(const MobileNetOptions& o) {
  CheckMobileNetOptions("MobileNetV2", o);
  MobileNetLayout l = LayoutStem(2, o);
  int64_t channels = l.stem_channels, hw = CeilDiv(o.input_hw, l.stem_stride);
  // Inverted residual settings (expansion t, output channels c, repeats n, first stride s).
  const int64_t settings[7][4] = {{1, 16, 1, 1},  {6, 24, 2, 2},  {6, 32, 3, 2},  {6, 64, 4, 2},
                                  {6, 96, 3, 1},  {6, 160, 3, 2}, {6, 320, 1, 1}};
  int feature = 1;
  for (const auto& st : settings) {
    for (int64_t r = 0; r < st[2]; ++r, ++feature) {
      MobileNetBlock b;
      const std::string f = Cat("features.", feature, ".conv.");
      b.name = Cat("features.", feature);
      b.in = channels, b.hidden = channels * st[0], b.out = MakeDivisible(st[1] * o.width);
      b.stride = r == 0 ? st[3] : 1;
      b.in_hw = hw;
      b.residual = b.stride == 1 && b.in == b.out;
      const int k = st[0] != 1 ? 1 : 0;  // the depthwise conv's index in the block
      if (k == 1) b.expand = f + "0.0", b.expand_bn = f + "0.1";
      b.depthwise = Cat(f, k, ".0"), b.depthwise_bn = Cat(f, k, ".1");
      b.project = Cat(f, k + 1), b.project_bn = Cat(f, k + 2);
      l.blocks.push_back(b);
      channels = b.out;
      hw = CeilDiv(hw, b.stride);
    }
  }
  l.last_channels = MakeDivisible(1280 * std::max(1.0, o.width));
  l.last_conv = Cat("features.", feature, ".0"), l.last_bn = Cat("features.", feature, ".1");
  l.final_hw = hw;
  l.classifier_in = l.last_channels;
  return l;
}

std::vector<LayerSpec> MobileNetLayers(const MobileNetLayout& l) {
  // The counter's input side of a layer that reads a side-hw map at this stride.
  auto counted = [&l](int64_t hw, int64_t stride) { return l.imagenet ? KerasPaddedSide(hw, stride) : hw; };
  std::vector<LayerSpec> layers;
  layers.push_back(Conv("features.0.0.weight", 3, l.in_channels, l.stem_channels, counted(l.input_hw, l.stem_stride),
                        l.stem_stride, /*maskable=*/false));
  for (const MobileNetBlock& b : l.blocks) {
    const int64_t out_hw = CeilDiv(b.in_hw, b.stride);
    if (!b.expand.empty()) layers.push_back(Conv(b.expand + ".weight", 1, b.in, b.hidden, b.in_hw, 1));
    layers.push_back(Depthwise(b.depthwise + ".weight", b.hidden, counted(b.in_hw, b.stride), b.stride));
    layers.push_back(Conv(b.project + ".weight", 1, b.hidden, b.out, out_hw, 1));
  }
  if (l.last_channels > 0) {
    layers.push_back(Conv(l.last_conv + ".weight", 1, l.blocks.back().out, l.last_channels, l.final_hw, 1));
  }
  layers.push_back(Dense("classifier.1.weight", l.classifier_in, l.num_classes));  // Keras: a 1x1 conv on 1x1
  return layers;
}

std::vector<LayerSpec> MobileNetV1(const MobileNetOptions& o) { return MobileNetLayers(MobileNetV1Layout(o)); }
std::vector<LayerSpec> MobileNetV2(const MobileNetOptions& o) { return MobileNetLayers(MobileNetV2Layout(o)); }

std::vector<LayerSpec> GruLanguageModel(int64_t vocabulary, int64_t embedding, int64_t hidden,
                                        const std::vector<int64_t>& readout, int64_t seq_len) {
  auto dense = [seq_len](std::string name, int64_t in, int64_t out) {
    LayerSpec l = Dense(std::move(name), in, out);
    l.time_steps = seq_len;
    return l;
  };
  std::vector<LayerSpec> layers = {dense("gru.weight_ih_l0", embedding, 3 * hidden),
                                   dense("gru.weight_hh_l0", hidden, 3 * hidden)};
  int64_t in = hidden;
  for (size_t i = 0; i <= readout.size(); ++i) {
    const int64_t out = i < readout.size() ? readout[i] : vocabulary;
    layers.push_back(dense("fc" + std::to_string(i + 1) + ".weight", in, out));
    in = out;
  }
  return layers;
}

int64_t TotalWeights(const std::vector<LayerSpec>& layers) {
  int64_t total = 0;
  for (const LayerSpec& l : layers) total += l.N();
  return total;
}

int64_t TotalMaskableWeights(const std::vector<LayerSpec>& layers) {
  int64_t total = 0;
  for (const LayerSpec& l : layers) total += l.maskable ? l.N() : 0;
  return total;
}

}  // namespace models
