// Architecture tables: the weight-carrying layers of each model as LayerSpec lists, in forward order, with
// PyTorch-style dotted names and the spatial sizes the RigL FLOPs counter sees (RIGL.md §4.1). These are shapes only:
// no parameters, no BatchNorm/pooling entries (those are never masked nor counted). The nn/ model builders that
// create real layers are separate and should agree with these tables.
#ifndef MODELS_ARCHITECTURES_H_
#define MODELS_ARCHITECTURES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "models/layer_spec.h"

namespace models {

// Fully connected net; widths = {inputs, hidden..., outputs}; layers "fc1.weight", "fc2.weight", ... All maskable.
std::vector<LayerSpec> Mlp(const std::vector<int64_t>& widths = {784, 300, 100, 10});

// LeNet-5 on 28x28x1: conv1 1->6 5x5 pad 2, maxpool 2, conv2 6->16 5x5 no pad, maxpool 2, fc1 400->120, fc2 120->84,
// fc3 84->10. All maskable. The counter assumes 'same' padding, so conv2 (input 14) is counted at 14x14 although it
// really produces 10x10 (RIGL.md §4.1 formula applied as written).
std::vector<LayerSpec> LeNet5();

// Wide ResNet (pre-activation, CIFAR style): conv1 in->16 3x3, 3 groups of (depth-4)/6 basic blocks with widths
// 16w, 32w, 64w (strides 1, 2, 2; the stride sits on the block's first 3x3), 1x1 projection "shortcut" where the shape
// changes, fc 64w->classes. Names: "conv1.weight", "layer1.0.conv1.weight", "layer1.0.shortcut.weight", "fc.weight".
// conv1 is not maskable and fc is (cifar_resnet defaults prune_first_layer=False, prune_last_layer=True).
std::vector<LayerSpec> WideResNet(int64_t depth, int64_t width, int64_t in_channels, int64_t input_hw,
                                  int64_t num_classes);
// WRN-22-2 on CIFAR-10 (32x32x3) and its single-channel 28x28 variant (Fashion-MNIST).
std::vector<LayerSpec> Wrn22x2Cifar();
std::vector<LayerSpec> Wrn22x2Mnist();

// ResNet-50 v1.5 (stride on the 3x3) for ImageNet 224: 53 convs including the 4 projection shortcuts
// ("layerN.0.downsample.0.weight") plus "fc.weight" 2048->1000; all 54 maskable (Uniform keeps conv1 dense through
// the distribution's first_layer_dense option). conv1 is counted at input 230 -> 115x115 (RIGL.md §4.1 quirk 1).
std::vector<LayerSpec> ResNet50(int64_t num_classes = 1000);

// MobileNet v1 / v2 (depth multiplier 1) at any width and input. One layout describes each network; both the layer
// table (for FLOPs and the sparsity plan) and the trainable network (models/networks.h) are built from it.
// - Input side >= 96 (ImageNet, 224): torchvision's / Keras's network, stem conv 3x3 stride 2. The table follows the
//   RigL counter (RIGL.md section 4.1): depthwise convs counted as [3,3,C,1]; strided ones and the first conv see the
//   Keras zero-padded input (224 -> 225, 112 -> 113, ...), e.g. a stride-2 depthwise on 112 is counted at 57x57.
// - Smaller inputs (Fashion-MNIST's 28x28): the same network with a stride-1 stem, so the first blocks see the full
//   28x28 (as ImageNet's see 112x112) and the last ones 2x2; every other stride as ImageNet's. The table records the
//   real input sides ('same' padding), so it counts exactly what runs.
// The first conv and every depthwise conv are not maskable (RIGL.md section 1.1); the 1x1 convs and the classifier
// are. Channels are torchvision's _make_divisible(c * width, 8); v2's last conv has 1280 * max(1, width) channels.
// Weight names are torchvision's MobileNetV2 names (v1 follows the same scheme, torchvision having no v1):
// v1: "features.0.0" stem, "features.i.0" depthwise, "features.i.3" pointwise (i = 1..13; BN at .1 and .4),
//     "classifier.1";
// v2: "features.0.0" stem, "features.i.conv.{0.0 expand, k.0 depthwise, k+1 project}" (k = 1 with an expansion, 0
//     without; BN at .0.1, .k.1, .k+2), "features.18.0" last conv, "classifier.1". Each name + ".weight".
struct MobileNetOptions {
  int64_t in_channels = 3;
  int64_t input_hw = 224;
  int64_t num_classes = 1000;
  double width = 1.0;  // the width multiplier alpha (Small-Dense multiplies it further)
};

// One block: v1's depthwise-separable block, or v2's inverted residual (expand 1x1 when hidden != in, depthwise 3x3,
// linear 1x1 projection; a residual add when stride 1 and in == out). Module names are without ".weight".
struct MobileNetBlock {
  int64_t in = 0, hidden = 0, out = 0, stride = 1;
  int64_t in_hw = 0;  // the real input side
  bool residual = false;
  std::string name;  // "features.i"
  std::string expand, expand_bn, depthwise, depthwise_bn, project, project_bn;  // expand empty: no expansion
};

struct MobileNetLayout {
  int version = 1;
  bool imagenet = true;  // the ImageNet stem and counter view (input side >= 96)
  int64_t in_channels = 3, input_hw = 224, num_classes = 1000;
  int64_t stem_channels = 0, stem_stride = 2;
  std::vector<MobileNetBlock> blocks;
  int64_t last_channels = 0;  // v2's final 1x1 conv; 0 for v1
  std::string last_conv, last_bn;  // its names ("features.18.0", "features.18.1")
  int64_t final_hw = 0;       // the side the global average pool sees
  int64_t classifier_in = 0;
};

// torchvision's _make_divisible(v, 8): the nearest multiple of 8, at least 8, never below 0.9 v.
int64_t MakeDivisible(double v);
MobileNetLayout MobileNetV1Layout(const MobileNetOptions& options = {});
MobileNetLayout MobileNetV2Layout(const MobileNetOptions& options = {});
std::vector<LayerSpec> MobileNetLayers(const MobileNetLayout& layout);
std::vector<LayerSpec> MobileNetV1(const MobileNetOptions& options = {});
std::vector<LayerSpec> MobileNetV2(const MobileNetOptions& options = {});

// The character-level GRU language model's weights, each applied at every one of seq_len time steps:
// "gru.weight_ih_l0" [3H, E], "gru.weight_hh_l0" [3H, H], then "fc1.weight" .. the readout layers and the output
// layer to the vocabulary. All maskable; the embedding is a lookup (no FLOPs, never masked) and is not listed.
std::vector<LayerSpec> GruLanguageModel(int64_t vocabulary, int64_t embedding, int64_t hidden,
                                        const std::vector<int64_t>& readout, int64_t seq_len);

// Total kernel weights (sum of N()) over all layers, or over maskable layers only.
int64_t TotalWeights(const std::vector<LayerSpec>& layers);
int64_t TotalMaskableWeights(const std::vector<LayerSpec>& layers);

}  // namespace models

#endif  // MODELS_ARCHITECTURES_H_
