// MobileNet v1 / v2: the layouts against published facts (torchvision's channel rounding, parameter totals of the
// reference implementations, block structure), the network built from a layout against the layer table built from
// the same layout (every weight once, at its size), and a forward pass at both input sizes.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/autograd/variable.h"
#include "engine/base/check.h"
#include "models/architectures.h"
#include "models/networks.h"

namespace models {
namespace {

// torchvision's _make_divisible(v, 8), worked by hand: round to the nearest multiple of 8 (ties up), at least 8, and
// one step up when that loses more than 10%.
TEST(MakeDivisible, RoundsLikeTorchvision) {
  EXPECT_EQ(MakeDivisible(32.0), 32);
  EXPECT_EQ(MakeDivisible(16.0), 16);    // 32 * 0.5
  EXPECT_EQ(MakeDivisible(8.4), 8);      // 24 * 0.35: int(12.4) // 8 * 8 = 8
  EXPECT_EQ(MakeDivisible(12.0), 16);    // 16 * 0.75: int(16) // 8 * 8 = 16
  EXPECT_EQ(MakeDivisible(33.6), 32);    // 96 * 0.35: 32 >= 0.9 * 33.6 = 30.24
  EXPECT_EQ(MakeDivisible(4.0), 8);      // the floor of 8
  EXPECT_EQ(MakeDivisible(19.0), 24);    // int(23) // 8 * 8 = 16 < 0.9 * 19 = 17.1: one step up
  EXPECT_EQ(MakeDivisible(448.0), 448);  // 320 * 1.4
}

int64_t CountParameters(const Network& net) {
  int64_t n = 0;
  for (const engine::DenseParameter* p : net.params.dense) n += p->var.value().size();
  for (const engine::SparseParameter* p : net.params.sparse) n += p->entries();
  return n;
}

NetworkOptions ImageNet(const std::string& model) {
  NetworkOptions o;
  o.model = model;
  o.in_channels = 3, o.input_hw = 224, o.num_classes = 1000;
  return o;
}

// The reference totals (weights, biases, batch-norm gammas and betas; not the running statistics):
// torchvision.models.mobilenet_v2() has 3,504,872 parameters (its documented num_params); Keras's
// MobileNet(alpha=1) has 4,231,976 trainable parameters (its conv_preds 1x1 conv has a bias, as our classifier).
TEST(MobileNet, ImageNetParameterTotalsMatchTheReferenceImplementations) {
  EXPECT_EQ(CountParameters(BuildNetwork(ImageNet("mobilenet_v2"))), 3504872);
  EXPECT_EQ(CountParameters(BuildNetwork(ImageNet("mobilenet_v1"))), 4231976);
}

TEST(MobileNet, V2HasTorchvisionsBlocks) {
  const MobileNetLayout l = MobileNetV2Layout();
  ASSERT_EQ(l.blocks.size(), 17u);
  int residual = 0;
  for (const MobileNetBlock& b : l.blocks) residual += b.residual;
  EXPECT_EQ(residual, 10);  // torchvision: 1 + 2 + 3 + 2 + 2 repeats that keep their shape
  EXPECT_EQ(l.blocks[0].expand, "");  // t = 1: no expansion
  EXPECT_EQ(l.blocks[0].depthwise, "features.1.conv.0.0");
  EXPECT_EQ(l.blocks[1].expand, "features.2.conv.0.0");
  EXPECT_EQ(l.blocks[1].depthwise, "features.2.conv.1.0");
  EXPECT_EQ(l.blocks[1].project, "features.2.conv.2");
  EXPECT_EQ(l.blocks[1].project_bn, "features.2.conv.3");
  EXPECT_EQ(l.last_conv, "features.18.0");
  EXPECT_EQ(l.final_hw, 7);
  EXPECT_EQ(l.last_channels, 1280);
}

TEST(MobileNet, SmallInputsKeepTheFirstBlocksAtFullResolution) {
  MobileNetOptions o;
  o.in_channels = 1, o.input_hw = 28, o.num_classes = 10;
  const MobileNetLayout v1 = MobileNetV1Layout(o), v2 = MobileNetV2Layout(o);
  EXPECT_EQ(v1.stem_stride, 1);
  EXPECT_FALSE(v1.imagenet);
  EXPECT_EQ(v1.blocks[0].in_hw, 28);
  EXPECT_EQ(v1.final_hw, 2);  // 28 -> 14 -> 7 -> 4 -> 2 over the four stride-2 blocks
  EXPECT_EQ(v2.blocks[0].in_hw, 28);
  EXPECT_EQ(v2.final_hw, 2);
  // The table records the real sides: a stride-2 depthwise on 28 is counted at 14x14, as it runs.
  const std::vector<LayerSpec> layers = MobileNetV1(o);
  EXPECT_EQ(layers[3].name, "features.2.0.weight");
  EXPECT_EQ(layers[3].input_hw, 28);
  EXPECT_EQ(layers[3].OutputH(), 14);
}

// Every row of the table is a parameter of the network, once, with the table's weight count; every conv or linear
// weight of the network is a row. At several widths and both input sizes, Small-Dense's multiplier included.
TEST(MobileNet, NetworkAndTableDescribeTheSameWeights) {
  for (const char* model : {"mobilenet_v1", "mobilenet_v2"}) {
    for (const double width : {1.0, 0.5, 0.35}) {
      for (const bool imagenet : {false, true}) {
        NetworkOptions o = imagenet ? ImageNet(model) : NetworkOptions{};
        o.model = model;
        o.mobilenet_width = width;
        o.width_multiplier = width == 0.35 ? 0.8 : 1.0;
        const Network net = BuildNetwork(o);
        // Conv and linear weights are rank 4 or 2; batch-norm gammas and every bias are rank 1.
        std::map<std::string, int64_t> sizes;
        for (const engine::DenseParameter* p : net.params.dense) {
          if (p->var.value().rank() > 1) sizes[p->name] = p->var.value().size();
        }
        const std::string where = std::string(model) + " width " + std::to_string(width) + (imagenet ? " 224" : " 28");
        for (const LayerSpec& l : net.layers) {
          ASSERT_EQ(sizes.count(l.name), 1u) << where << ": " << l.name;
          EXPECT_EQ(sizes[l.name], l.N()) << where << ": " << l.name;
        }
        const size_t net_weights = sizes.size(), table_weights = net.layers.size();
        EXPECT_EQ(net_weights, table_weights) << where;
      }
    }
  }
}

TEST(MobileNet, ForwardGivesLogitsAtBothInputSizes) {
  for (const char* model : {"mobilenet_v1", "mobilenet_v2"}) {
    NetworkOptions small;
    small.model = model;
    small.mobilenet_width = 0.5;
    Network net = BuildNetwork(small);
    const engine::Variable y = net.module->Forward(engine::Constant(engine::Tensor({1, 2, 28, 28})));
    EXPECT_EQ(y.shape(), (std::vector<int64_t>{10, 2})) << model;
    Network big = BuildNetwork(ImageNet(model));
    big.module->SetTraining(false);
    const engine::Variable z = big.module->Forward(engine::Constant(engine::Tensor({3, 1, 224, 224})));
    EXPECT_EQ(z.shape(), (std::vector<int64_t>{1000, 1})) << model;
  }
}

TEST(MobileNet, BadOptionsAreErrors) {
  MobileNetOptions o;
  o.width = 0.0;
  EXPECT_THROW(MobileNetV1Layout(o), engine::Error);
  o.width = 1.0;
  o.input_hw = 0;
  EXPECT_THROW(MobileNetV2Layout(o), engine::Error);
}

}  // namespace
}  // namespace models
