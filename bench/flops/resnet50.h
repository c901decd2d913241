// ResNet-50 v1.5 (stride on the 3x3 of each bottleneck; ImageNet 224x224) built from engine::nn pieces for the
// FLOPs benchmark's one-step timing: the models package does not build it (it has only the layer table,
// models::ResNet50(), whose weight names this network uses, so a rigl::SparsityPlan applies unchanged).
// Post-activation bottlenecks: relu(bn1(conv1 1x1)) -> relu(bn2(conv2 3x3/s)) -> bn3(conv3 1x1), plus the shortcut
// (identity, or bn(downsample 1x1/s)), then relu. Stem: conv 7x7/2 pad 3, bn, relu, max pool 3x3/2 pad 1.
// Not for training runs (no checkpoints, no trainer wiring).
#ifndef BENCH_FLOPS_RESNET50_H_
#define BENCH_FLOPS_RESNET50_H_

#include "models/networks.h"

namespace flopsbench {

// options.in_channels (3), input_hw (224), num_classes (1000), plan and seed are used; model must be "resnet50".
models::Network BuildResNet50(const models::NetworkOptions& options);

}  // namespace flopsbench

#endif  // BENCH_FLOPS_RESNET50_H_
