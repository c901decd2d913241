// Tests for models/flops (and the architecture tables it is used on): per-layer FLOPs and sizes computed by hand,
// ResNet-50 / MobileNet totals derived independently (see the comments for each derivation), the training-cost
// formulas of RIGL.md §4.3, and the paper-level ERK vs Uniform relation.
#include "models/flops.h"

#include <cmath>
#include <string>
#include <vector>

#include "engine/base/check.h"
#include "gtest/gtest.h"
#include "models/architectures.h"
#include "rigl/drop_schedule.h"
#include "rigl/sparsity_distribution.h"

namespace models {
namespace {

LayerSpec ConvSpec(int64_t k, int64_t cin, int64_t cout, int64_t in, int64_t stride) {
  LayerSpec l;
  l.name = "conv.weight";
  l.kind = LayerSpec::kConv;
  l.kernel_h = l.kernel_w = k;
  l.in_channels = cin;
  l.out_channels = cout;
  l.input_hw = in;
  l.stride = stride;
  return l;
}

LayerSpec DenseSpec(int64_t cin, int64_t cout) {
  LayerSpec l;
  l.name = "fc.weight";
  l.kind = LayerSpec::kDense;
  l.in_channels = cin;
  l.out_channels = cout;
  return l;
}

std::vector<double> Sparsities(const std::vector<LayerSpec>& layers, const rigl::DistributionOptions& options) {
  return rigl::ComputeSparsities(layers, options).Sparsities();
}

// ---- single layers, by hand ----
struct LayerCase {
  LayerSpec layer;
  double sparsity, flops;
  const char* why;
};
const LayerCase kLayerCases[] = {
    {DenseSpec(784, 300), 0.0, 300 * (2 * 784 + 1), "dense FC"},
    {DenseSpec(784, 300), 0.9, 300 * (2 * 78.4 + 1), "sparse FC: fractional vec, not rounded"},
    {ConvSpec(3, 16, 32, 32, 2), 0.0, 16 * 16 * 32 * (2 * 144 + 1), "3x3/2 on 32: ceil((32-3+1+2)/2) = 16"},
    {ConvSpec(3, 16, 32, 32, 1), 0.5, 32 * 32 * 32 * (2 * 72 + 1), "3x3 same, half the weights"},
    {ConvSpec(1, 16, 32, 32, 2), 0.0, 16 * 16 * 32 * (2 * 16 + 1), "1x1/2 projection: ceil(32/2) = 16"},
    {ConvSpec(7, 3, 64, 230, 2), 0.0, 115 * 115 * 64 * (2 * 147 + 1), "ResNet-50 conv1 quirk: 230 -> 115"},
    {ConvSpec(5, 6, 16, 14, 1), 0.0, 14 * 14 * 16 * (2 * 150 + 1), "LeNet conv2: 'same' assumed -> 14x14"},
    {ConvSpec(3, 5, 7, 9, 3), 0.2, 3 * 3 * 7 * (2 * 36 + 1), "odd sizes: ceil(9/3) = 3, vec = 45*0.8 = 36"},
};

class LayerFlops : public ::testing::TestWithParam<LayerCase> {};

TEST_P(LayerFlops, MatchesHandValue) {
  const LayerCase& c = GetParam();
  EXPECT_NEAR(LayerInferenceFlops(c.layer, c.sparsity), c.flops, 1e-9 * c.flops) << c.why;
}
INSTANTIATE_TEST_SUITE_P(Hand, LayerFlops, ::testing::ValuesIn(kLayerCases));

TEST(LayerFlops, DepthwiseCountedAsConvWithOneOutputChannel) {
  // MobileNet's stride-2 depthwise on 112 sees the Keras-padded 113: counted [3,3,64,1] at 57x57 (RIGL.md quirk 2).
  const std::vector<LayerSpec> v1 = MobileNetV1();
  const LayerSpec& dw = v1[3];  // features.2.0.weight, block 2's depthwise conv
  ASSERT_EQ(dw.name, "features.2.0.weight");
  EXPECT_EQ(dw.kind, LayerSpec::kDepthwiseConv);
  EXPECT_EQ(dw.input_hw, 113);
  EXPECT_EQ(dw.OutputH(), 57);
  EXPECT_EQ(dw.N(), 9 * 64);
  EXPECT_EQ(dw.KernelDims(), (std::vector<int64_t>{3, 3, 64, 1}));
  EXPECT_DOUBLE_EQ(LayerInferenceFlops(dw, 0.0), 57.0 * 57 * 1 * (2 * 576 + 1));
  EXPECT_DOUBLE_EQ(LayerSizeBits(dw, 0.0), 576.0 * 32 + 32);  // bias counted with c_out = 1
}

TEST(ModelSize, HandValues) {
  // 784x300 at 0.9: 235200*32*0.1 weight bits + 235200 mask bits + 300*32 bias bits.
  EXPECT_NEAR(LayerSizeBits(DenseSpec(784, 300), 0.9), 752640.0 + 235200 + 9600, 1e-6);
  EXPECT_DOUBLE_EQ(LayerSizeBits(DenseSpec(784, 300), 0.0), 235200.0 * 32 + 9600);  // no mask when dense
  // ResNet-50 dense: (25502912 weights + 27560 biases) * 32 bits / 8e6 = 102.121888 MB. Σcout by hand:
  // 64 + (3*384 + 256) + (4*768 + 512) + (6*1536 + 1024) + (3*3072 + 2048) + 1000 = 27560.
  const std::vector<LayerSpec> r50 = ResNet50();
  EXPECT_EQ(TotalWeights(r50), 25502912);
  EXPECT_NEAR(ModelSizeMegabytes(r50, std::vector<double>(r50.size(), 0.0)), 102.121888, 1e-9);
}

// ---- architecture tables ----
TEST(Architectures, LayerCountsAndParameterTotals) {
  const std::vector<LayerSpec> r50 = ResNet50();
  ASSERT_EQ(r50.size(), 54u);  // 53 convs (4 projections) + fc
  int convs = 0, projections = 0;
  for (const LayerSpec& l : r50) {
    convs += l.kind == LayerSpec::kConv;
    projections += l.name.find("downsample") != std::string::npos;
    EXPECT_TRUE(l.maskable) << l.name;
  }
  EXPECT_EQ(convs, 53);
  EXPECT_EQ(projections, 4);
  EXPECT_EQ(r50[11].name, "layer2.0.conv1.weight");
  EXPECT_EQ(r50.back().name, "fc.weight");
  // v1.5: the stride sits on the 3x3 (layer2.0.conv2 sees 56 and produces 28).
  EXPECT_EQ(r50[12].name, "layer2.0.conv2.weight");
  EXPECT_EQ(r50[12].stride, 2);
  EXPECT_EQ(r50[12].input_hw, 56);

  EXPECT_EQ(TotalWeights(Mlp()), 266200);
  EXPECT_EQ(TotalWeights(LeNet5()), 150 + 2400 + 48000 + 10080 + 840);
  // WRN-22-2: 19 convs + 1 fc; 3 projections (16->32, 32->64, 64->128).
  const std::vector<LayerSpec> wrn = Wrn22x2Cifar();
  EXPECT_EQ(wrn.size(), 23u);
  EXPECT_FALSE(wrn.front().maskable);
  EXPECT_TRUE(wrn.back().maskable);
  EXPECT_EQ(wrn.back().in_channels, 128);
  EXPECT_EQ(Wrn22x2Mnist().front().in_channels, 1);
  EXPECT_EQ(Wrn22x2Mnist().back().in_channels, 128);
  // MobileNets: depthwise layers are 9*C weights; weight totals checked against a separate table walk.
  EXPECT_EQ(MobileNetV1().size(), 28u);
  EXPECT_EQ(TotalWeights(MobileNetV1()), 4209088);
  EXPECT_EQ(TotalMaskableWeights(MobileNetV1()), 4163584);
  EXPECT_EQ(MobileNetV2().size(), 53u);
  EXPECT_EQ(TotalWeights(MobileNetV2()), 3469760);
  EXPECT_EQ(TotalMaskableWeights(MobileNetV2()), 3404672);
}

// ---- ResNet-50 totals ----
TEST(ResNet50Flops, DenseTotal) {
  // Standard ResNet-50 is 4,089,184,256 MACs (conv1 at 112x112, fc included) = 8,178,368,512 FLOPs. The counter adds
  // one FLOP per output element of every layer (11,158,568 with conv1 at 115x115) and counts conv1 on 115x115
  // instead of 112x112 (+ (115² - 112²)·64·2·147 = 12,813,696). Total 8,202,340,776: the paper's "8.2e9".
  const std::vector<LayerSpec> r50 = ResNet50();
  EXPECT_DOUBLE_EQ(LayerInferenceFlops(r50[0], 0.0), 249688000.0);
  EXPECT_DOUBLE_EQ(LayerInferenceFlops(r50[2], 0.0), 56.0 * 56 * 64 * (2 * 576 + 1));  // layer1.0.conv2
  EXPECT_DOUBLE_EQ(LayerInferenceFlops(r50.back(), 0.0), 1000.0 * (2 * 2048 + 1));
  EXPECT_DOUBLE_EQ(DenseInferenceFlops(r50), 8178368512.0 + 11158568.0 + 12813696.0);
}

TEST(ResNet50Flops, ErkCostsAboutTwiceUniform) {
  // Uniform: conv1 dense (first_layer_dense), every other layer at S. ERK: all 54 layers (first_layer_sparsity=-1).
  // Reference values from an independent script, tools/flops_golden.py; the paper's Table 2 rounds them to 0.23x/0.42x (S=0.8) and 0.24x
  // (ERK, S=0.9). RIGL.md §4.2: "ERK costs roughly 2x the FLOPs of Uniform".
  const std::vector<LayerSpec> r50 = ResNet50();
  const double dense = DenseInferenceFlops(r50);
  struct Row { double S, uniform, erk; };
  const Row rows[] = {{0.8, 0.2253586311615589, 0.41528633671197474}, {0.9, 0.12852846005675386, 0.24314867727207853}};
  for (const Row& row : rows) {
    rigl::DistributionOptions uniform, erk;
    uniform.sparsity = erk.sparsity = row.S;
    uniform.first_layer_dense = true;
    erk.kind = rigl::DistributionKind::kErdosRenyiKernel;
    const double f_uniform = InferenceFlops(r50, Sparsities(r50, uniform)) / dense;
    const double f_erk = InferenceFlops(r50, Sparsities(r50, erk)) / dense;
    EXPECT_NEAR(f_uniform, row.uniform, 1e-9) << "S=" << row.S;
    EXPECT_NEAR(f_erk, row.erk, 1e-9) << "S=" << row.S;
    EXPECT_GT(f_erk / f_uniform, 1.8) << "S=" << row.S;
    EXPECT_LT(f_erk / f_uniform, 2.0) << "S=" << row.S;
  }
}

TEST(ResNet50Flops, TrainingCostsPerMethod) {
  const std::vector<LayerSpec> r50 = ResNet50();
  rigl::DistributionOptions erk;
  erk.kind = rigl::DistributionKind::kErdosRenyiKernel;
  erk.sparsity = 0.9;
  const std::vector<double> s = Sparsities(r50, erk);
  const double f_d = DenseInferenceFlops(r50), f_s = InferenceFlops(r50, s);
  TrainCostOptions options;
  options.rule = CostRule::kPeriodicDense;
  options.delta_t = 100;
  // RigL: (3·f_S·100 + 2·f_S + f_D) / 101, relative to 3·f_D; with f_S/f_D = 0.243148677 this is 0.245647
  // (tools/flops_golden.py prints it too).
  EXPECT_NEAR(TrainFlopsPerStep(r50, s, options), (300.0 * f_s + 2.0 * f_s + f_d) / 101.0, 1e-6 * f_d);
  EXPECT_NEAR(RelativeTrainFlops(r50, s, options), 0.24564653642299578, 1e-9);
  EXPECT_NEAR(RelativeTrainFlops(r50, s, options, /*multiplier=*/5.0), 5 * 0.24564653642299578, 1e-8);
  options.rule = CostRule::kDenseWeightGradient;
  EXPECT_NEAR(RelativeTrainFlops(r50, s, options), (2.0 * f_s + f_d) / (3.0 * f_d), 1e-12);
  options.rule = CostRule::kDense;
  EXPECT_NEAR(RelativeTrainFlops(r50, s, options), 1.0, 1e-12);
}

TEST(ResNet50Flops, PruningAveragesTheSchedule) {
  // Colab convention: Uniform with conv1 dense, s_t from the cubic schedule 10k -> 25k, sampled t = 0, 1k, ..., 32k,
  // divided by the t = 0 (dense) value. Independent script (tools/flops_golden.py): 0.560254 (S=0.8), 0.505286 (S=0.9); the paper reports
  // 0.56x / 0.51x for pruning.
  const std::vector<LayerSpec> r50 = ResNet50();
  for (const auto& [S, expected] : {std::pair<double, double>{0.8, 0.5602540916290869}, {0.9, 0.5052858530827229}}) {
    rigl::PruningScheduleConfig schedule;
    schedule.final_sparsity = S;
    schedule.begin_step = 10000;
    schedule.end_step = 25000;
    schedule.frequency = 1000;
    TrainCostOptions options;
    options.rule = CostRule::kTrajectory;
    for (int64_t t = 0; t <= 32000; t += 1000) {
      rigl::DistributionOptions uniform;
      uniform.sparsity = rigl::PruningSparsity(schedule, t);
      uniform.first_layer_dense = true;
      options.pruning_sparsities.push_back(Sparsities(r50, uniform));
    }
    EXPECT_NEAR(RelativeTrainFlops(r50, options.pruning_sparsities.back(), options), expected, 1e-9) << "S=" << S;
  }
}

// ---- training formulas on plain numbers ----
TEST(TrainFormulas, RiglMdTable) {
  // RIGL.md 4.3 by hand at f_D = 100, f_S = 10 (which method takes which rule: tests/rigl/method_test.cc).
  const double f_d = 100.0, f_s = 10.0;
  EXPECT_EQ(TrainFlopsPerStepFromForward(CostRule::kDense, f_d, f_s, 100), 300.0);
  EXPECT_EQ(TrainFlopsPerStepFromForward(CostRule::kSparse, f_d, f_s, 100), 30.0);
  EXPECT_EQ(TrainFlopsPerStepFromForward(CostRule::kDenseWeightGradient, f_d, f_s, 100), 120.0);
  EXPECT_DOUBLE_EQ(TrainFlopsPerStepFromForward(CostRule::kPeriodicDense, f_d, f_s, 100), 3120.0 / 101.0);
  EXPECT_DOUBLE_EQ(TrainFlopsPerStepFromForward(CostRule::kPeriodicDense, f_d, f_s, 1), (30.0 + 20.0 + 100.0) / 2.0);
  EXPECT_THROW(TrainFlopsPerStepFromForward(CostRule::kTrajectory, f_d, f_s, 100), engine::Error);
  EXPECT_THROW(TrainFlopsPerStepFromForward(CostRule::kPeriodicDense, f_d, f_s, 0), engine::Error);
}

TEST(TrainFormulas, PerLayerValuesSumToTotal) {
  const std::vector<LayerSpec> mlp = Mlp();
  const std::vector<double> s = {0.9, 0.8, 0.0};
  TrainCostOptions options;
  options.rule = CostRule::kPeriodicDense;
  options.delta_t = 10;
  const std::vector<double> per_layer = LayerTrainFlopsPerStep(mlp, s, options);
  double sum = 0.0;
  for (double v : per_layer) sum += v;
  EXPECT_NEAR(sum, TrainFlopsPerStep(mlp, s, options), 1e-9 * sum);
  // fc3 is dense: its RigL cost is 3·f_D exactly.
  EXPECT_DOUBLE_EQ(per_layer[2], 3.0 * 10 * (2 * 100 + 1));
}

TEST(MobileNetFlops, DenseTotalsAgreeWithIndependentWalk) {
  // The real MobileNets are 568,740,352 (v1) and 300,774,272 (v2) MACs; the counter's view (padded first conv and
  // strided depthwise, depthwise as [3,3,C,1], +1 per output) gives these totals in an independent table walk.
  EXPECT_DOUBLE_EQ(DenseInferenceFlops(MobileNetV1()), 1141543864.0);
  EXPECT_DOUBLE_EQ(DenseInferenceFlops(MobileNetV2()), 606943534.0);
}

// The official colab (google-research/rigl, rigl/imagenet_resnet/colabs/MobileNet_Counting.ipynb, saved outputs)
// counts MobileNet v1 with the first conv and every depthwise conv dense and the rest at S: dense 1141.544 MFLOPs,
// and, in MFLOPs, Uniform 330.769 / 168.614 and ERK 599.144 / 334.134 at S = 0.75 / 0.9. Ours within 1% (the issue's
// bar; the dense count is exact, ERK differs in the last digits because the colab's ERK rounds each layer's count
// with int(N(1-S)), RIGL.md section 7 item 7). The paper's Figure 3 rounds to 1.1e9 and gives no v2 figure; the
// repository has none either, so v2 is checked only against the independent walk above.
TEST(MobileNetFlops, V1SparseTotalsMatchTheOfficialColab) {
  const std::vector<LayerSpec> v1 = MobileNetV1();
  EXPECT_NEAR(DenseInferenceFlops(v1) / 1e6, 1141.544, 0.0005);
  struct Row { double S, uniform, erk; };
  for (const Row& row : {Row{0.75, 330.769, 599.144}, Row{0.9, 168.614, 334.134}}) {
    rigl::DistributionOptions uniform, erk;
    uniform.sparsity = erk.sparsity = row.S;
    erk.kind = rigl::DistributionKind::kErdosRenyiKernel;
    const double f_uniform = InferenceFlops(v1, Sparsities(v1, uniform)) / 1e6;
    const double f_erk = InferenceFlops(v1, Sparsities(v1, erk)) / 1e6;
    EXPECT_NEAR(f_uniform, row.uniform, 0.01 * row.uniform) << "S=" << row.S << " uniform: " << f_uniform;
    EXPECT_NEAR(f_erk, row.erk, 0.01 * row.erk) << "S=" << row.S << " ERK: " << f_erk;
  }
}

TEST(FlopsTable, ListsEveryLayerAndTotals) {
  const std::vector<LayerSpec> mlp = Mlp();
  rigl::DistributionOptions erk;
  erk.kind = rigl::DistributionKind::kErdosRenyiKernel;
  erk.sparsity = 0.9;
  TrainCostOptions options;
  const std::string table = FormatFlopsTable(mlp, Sparsities(mlp, erk), options);
  for (const char* needle : {"fc1.weight", "fc2.weight", "fc3.weight", "300x784", "235200", "18715", "6906", "total",
                             "26621", "method rigl"}) {
    EXPECT_NE(table.find(needle), std::string::npos) << needle << " missing from\n" << table;
  }
}

TEST(FlopsInputs, MismatchedOrBadSparsitiesAreErrors) {
  const std::vector<LayerSpec> mlp = Mlp();
  EXPECT_THROW(InferenceFlops(mlp, {0.5, 0.5}), engine::Error);
  EXPECT_THROW(InferenceFlops(mlp, {0.5, 0.5, 1.5}), engine::Error);
  LayerSpec bad = ConvSpec(3, 4, 4, 8, 0);
  EXPECT_THROW(LayerInferenceFlops(bad, 0.0), engine::Error);
  TrainCostOptions pruning;
  pruning.rule = CostRule::kTrajectory;
  EXPECT_THROW(TrainFlopsPerStep(mlp, {0.0, 0.0, 0.0}, pruning), engine::Error);
}

}  // namespace
}  // namespace models
