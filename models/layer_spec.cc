// LayerSpec helpers: parameter counts, TF-layout kernel dims and the FLOPs counter's output size.
#include "models/layer_spec.h"

#include <cmath>

#include "engine/base/check.h"

namespace models {
namespace {

// ceil((in - k + 1 + 2*floor(k/2)) / stride) in integers (RIGL.md §4.1).
int64_t CountedOutputSide(int64_t in, int64_t k, int64_t stride) {
  const int64_t span = in - k + 1 + 2 * (k / 2);
  return (span + stride - 1) / stride;
}

}  // namespace

int64_t MaskNnz(int64_t n, double sparsity) {
  ENGINE_CHECK(n >= 0, "MaskNnz: n = ", n, "; expected n >= 0");
  ENGINE_CHECK(sparsity >= 0.0 && sparsity <= 1.0, "MaskNnz: sparsity = ", sparsity, "; expected 0 <= s <= 1");
  return n - static_cast<int64_t>(std::floor(sparsity * static_cast<double>(n)));
}

int64_t LayerSpec::N() const {
  switch (kind) {
    case kConv: return kernel_h * kernel_w * in_channels * out_channels;
    case kDepthwiseConv: return kernel_h * kernel_w * in_channels;
    case kDense: return in_channels * out_channels;
  }
  return 0;
}

std::vector<int64_t> LayerSpec::KernelDims() const {
  switch (kind) {
    case kConv: return {kernel_h, kernel_w, in_channels, out_channels};
    case kDepthwiseConv: return {kernel_h, kernel_w, in_channels, 1};
    case kDense: return {in_channels, out_channels};
  }
  return {};
}

int64_t LayerSpec::CountedOutChannels() const { return kind == kDepthwiseConv ? 1 : out_channels; }

int64_t LayerSpec::OutputH() const {
  return kind == kDense ? 1 : CountedOutputSide(input_hw, kernel_h, stride);
}

int64_t LayerSpec::OutputW() const {
  return kind == kDense ? 1 : CountedOutputSide(input_hw, kernel_w, stride);
}

std::string LayerSpec::ShapeString() const {
  switch (kind) {
    case kConv:
      return engine::internal::Cat(out_channels, "x", in_channels, "x", kernel_h, "x", kernel_w);
    case kDepthwiseConv:
      return engine::internal::Cat(in_channels, "x1x", kernel_h, "x", kernel_w);
    case kDense: return engine::internal::Cat(out_channels, "x", in_channels);
  }
  return "";
}

void ValidateLayerSpec(const LayerSpec& layer) {
  ENGINE_CHECK(!layer.name.empty(), "LayerSpec: name is empty; expected a dotted parameter name");
  ENGINE_CHECK(layer.in_channels > 0 && layer.out_channels > 0, "LayerSpec ", layer.name, ": in_channels = ",
               layer.in_channels, ", out_channels = ", layer.out_channels, "; expected both > 0");
  ENGINE_CHECK(layer.time_steps > 0 && (layer.kind == LayerSpec::kDense || layer.time_steps == 1), "LayerSpec ",
               layer.name, ": time_steps = ", layer.time_steps, "; expected > 0, and 1 for a convolution");
  if (layer.kind == LayerSpec::kDense) return;
  ENGINE_CHECK(layer.kernel_h > 0 && layer.kernel_w > 0, "LayerSpec ", layer.name, ": kernel ", layer.kernel_h, "x",
               layer.kernel_w, "; expected kernel_h > 0 and kernel_w > 0");
  ENGINE_CHECK(layer.stride > 0, "LayerSpec ", layer.name, ": stride = ", layer.stride, "; expected stride > 0");
  ENGINE_CHECK(layer.input_hw > 0, "LayerSpec ", layer.name, ": input_hw = ", layer.input_hw,
               "; expected input_hw > 0");
  ENGINE_CHECK(layer.kind != LayerSpec::kDepthwiseConv || layer.in_channels == layer.out_channels, "LayerSpec ",
               layer.name, ": depthwise conv with in_channels = ", layer.in_channels, ", out_channels = ",
               layer.out_channels, "; expected in_channels == out_channels (depth multiplier 1)");
}

}  // namespace models
