// Architecture tables (see architectures.h). Spatial sizes are tracked as the real forward pass produces them; only
// the input_hw recorded for a layer follows the counter's view (explicit Keras zero padding included).
#include "models/architectures.h"

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

std::vector<LayerSpec> MobileNetV1(int64_t num_classes) {
  ENGINE_CHECK(num_classes > 0, "MobileNetV1: num_classes = ", num_classes, "; expected > 0");
  std::vector<LayerSpec> layers;
  layers.push_back(Conv("conv1.weight", 3, 3, 32, KerasPaddedSide(224, 2), 2, /*maskable=*/false));
  int64_t channels = 32, hw = 112;
  // (pointwise filters, depthwise stride) of the 13 depthwise-separable blocks.
  const int64_t blocks[13][2] = {{64, 1},  {128, 2}, {128, 1}, {256, 2}, {256, 1}, {512, 2},  {512, 1},
                                 {512, 1}, {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1}};
  for (int i = 0; i < 13; ++i) {
    const std::string prefix = Cat("blocks.", i, ".");
    const int64_t stride = blocks[i][1];
    layers.push_back(Depthwise(prefix + "depthwise.weight", channels, KerasPaddedSide(hw, stride), stride));
    hw = CeilDiv(hw, stride);
    layers.push_back(Conv(prefix + "pointwise.weight", 1, channels, blocks[i][0], hw, 1));
    channels = blocks[i][0];
  }
  layers.push_back(Dense("fc.weight", channels, num_classes));  // Keras conv_preds: a 1x1 conv on a 1x1 map
  return layers;
}

std::vector<LayerSpec> MobileNetV2(int64_t num_classes) {
  ENGINE_CHECK(num_classes > 0, "MobileNetV2: num_classes = ", num_classes, "; expected > 0");
  std::vector<LayerSpec> layers;
  layers.push_back(Conv("conv1.weight", 3, 3, 32, KerasPaddedSide(224, 2), 2, /*maskable=*/false));
  int64_t channels = 32, hw = 112;
  // Inverted residual settings (expansion t, output channels c, repeats n, first stride s).
  const int64_t settings[7][4] = {{1, 16, 1, 1},  {6, 24, 2, 2},  {6, 32, 3, 2},  {6, 64, 4, 2},
                                  {6, 96, 3, 1},  {6, 160, 3, 2}, {6, 320, 1, 1}};
  int block = 0;
  for (const auto& st : settings) {
    for (int64_t r = 0; r < st[2]; ++r, ++block) {
      const std::string prefix = Cat("blocks.", block, ".");
      const int64_t stride = r == 0 ? st[3] : 1;
      const int64_t hidden = channels * st[0];
      if (st[0] != 1) layers.push_back(Conv(prefix + "expand.weight", 1, channels, hidden, hw, 1));
      layers.push_back(Depthwise(prefix + "depthwise.weight", hidden, KerasPaddedSide(hw, stride), stride));
      hw = CeilDiv(hw, stride);
      layers.push_back(Conv(prefix + "project.weight", 1, hidden, st[1], hw, 1));
      channels = st[1];
    }
  }
  layers.push_back(Conv("conv_last.weight", 1, channels, 1280, hw, 1));
  layers.push_back(Dense("fc.weight", 1280, num_classes));
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
