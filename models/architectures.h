// Architecture tables: the weight-carrying layers of each model as LayerSpec lists, in forward order, with
// PyTorch-style dotted names and the spatial sizes the RigL FLOPs counter sees (RIGL.md §4.1). These are shapes only:
// no parameters, no BatchNorm/pooling entries (those are never masked nor counted). The nn/ model builders that
// create real layers are separate and should agree with these tables.
#ifndef MODELS_ARCHITECTURES_H_
#define MODELS_ARCHITECTURES_H_

#include <cstdint>
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

// MobileNet v1 / v2 (width 1.0) for ImageNet 224, Keras layout. The first conv and every depthwise conv are not
// maskable (RIGL.md §1.1). Depthwise convs are counted as [3,3,C,1]; strided ones and the first conv see the Keras
// zero-padded input (224 -> 225, 112 -> 113, ...), e.g. a stride-2 depthwise on 112 is counted at 57x57.
// v1: "conv1.weight", "blocks.i.depthwise.weight", "blocks.i.pointwise.weight", "fc.weight" (Keras conv_preds).
// v2: "conv1.weight", "blocks.i.{expand,depthwise,project}.weight", "conv_last.weight", "fc.weight".
std::vector<LayerSpec> MobileNetV1(int64_t num_classes = 1000);
std::vector<LayerSpec> MobileNetV2(int64_t num_classes = 1000);

// Total kernel weights (sum of N()) over all layers, or over maskable layers only.
int64_t TotalWeights(const std::vector<LayerSpec>& layers);
int64_t TotalMaskableWeights(const std::vector<LayerSpec>& layers);

}  // namespace models

#endif  // MODELS_ARCHITECTURES_H_
