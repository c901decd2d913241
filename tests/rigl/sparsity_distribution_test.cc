// Tests for rigl/sparsity_distribution: RIGL.md §1.4 worked example, the §5 ER table and exact mask counts (values
// computed by hand / given in RIGL.md), and the properties the reference's own tests check.
#include "rigl/sparsity_distribution.h"

#include <cmath>
#include <string>
#include <vector>

#include "engine/base/check.h"
#include "gtest/gtest.h"
#include "models/architectures.h"

namespace rigl {
namespace {

using models::LayerSpec;

// ---- exact mask counts (RIGL.md §5) ----
TEST(MaskNnzTest, ReferenceCounts) {
  EXPECT_EQ(models::MaskNnz(30 * 4, 0.5), 60);       // shape (30,4) at 0.5
  EXPECT_EQ(models::MaskNnz(1 * 2 * 1 * 4, 0.8), 2);  // (1,2,1,4) at 0.8: floor(6.4) = 6 zeros
  EXPECT_EQ(models::MaskNnz(30, 0.1), 27);            // (30,) at 0.1: 0.1*30 = 3.0000000000000004 in double, floor 3
  EXPECT_EQ(models::MaskNnz(10, 0.0), 10);
  EXPECT_EQ(models::MaskNnz(10, 1.0), 0);
  EXPECT_THROW(models::MaskNnz(10, 1.5), engine::Error);
}

// ---- RIGL.md §1.4: MLP 784-300-100-10, ERK (= ER for dense layers), current rounding ----
struct MlpCase {
  double S, eps;
  double s[3];
  int64_t nnz[3];
  bool fc3_dense;
};
const MlpCase kMlpCases[] = {
    {0.80, 35.2022, {0.837759, 0.530638, 0.0}, {38160, 14081, 1000}, true},     // fc3 forced dense
    {0.90, 17.2642, {0.920432, 0.769811, 0.0}, {18715, 6906, 1000}, true},      // the headline row
    {0.95, 8.35006, {0.961516, 0.888666, 0.081493}, {9052, 3341, 919}, false},  // all distributed
    {0.98, 3.34003, {0.984606, 0.955466, 0.632597}, {3621, 1337, 368}, false},
};

class MlpWorkedExample : public ::testing::TestWithParam<MlpCase> {};

TEST_P(MlpWorkedExample, MatchesRiglMdTable) {
  const MlpCase& c = GetParam();
  for (DistributionKind kind : {DistributionKind::kErdosRenyiKernel, DistributionKind::kErdosRenyi}) {
    DistributionOptions options;
    options.kind = kind;
    options.sparsity = c.S;
    const SparsityDistribution d = ComputeSparsities(models::Mlp(), options);
    ASSERT_EQ(d.layers.size(), 3u);
    EXPECT_NEAR(d.epsilon, c.eps, 0.5e-4 * c.eps) << "S=" << c.S << " " << DistributionKindName(kind);
    for (int i = 0; i < 3; ++i) {
      EXPECT_NEAR(d.layers[i].sparsity, c.s[i], 5e-7) << "S=" << c.S << " layer " << i;
      EXPECT_EQ(d.layers[i].nnz, c.nnz[i]) << "S=" << c.S << " layer " << i;
    }
    EXPECT_EQ(d.layers[2].source == LayerSparsity::kForcedDense, c.fc3_dense) << "S=" << c.S;
    EXPECT_EQ(d.iterations, c.fc3_dense ? 2 : 1);
  }
}
INSTANTIATE_TEST_SUITE_P(RiglMd14, MlpWorkedExample, ::testing::ValuesIn(kMlpCases));

TEST(MlpWorkedExample, RealisedSparsityAt90) {
  DistributionOptions options;
  options.kind = DistributionKind::kErdosRenyiKernel;
  options.sparsity = 0.9;
  const SparsityDistribution d = ComputeSparsities(models::Mlp(), options);
  EXPECT_EQ(d.TotalNnz(), 26621);
  EXPECT_NEAR(d.OverallSparsity(), 0.899996, 5e-7);
}

// ---- RIGL.md §5: ER on the reference test shapes ----
struct ToyCase {
  std::vector<MaskedTensorShape> shapes;
  double S, eps;
  std::vector<double> s;
  bool var3_custom;
  const char* why;
};
const ToyCase kToyCases[] = {
    {{{"a", {2, 3}}, {"b", {2, 3}}}, 0.5, 0.6, {0.5, 0.5}, false, "equal shapes get S"},
    {{{"a", {1, 1, 2, 3}}, {"b", {1, 1, 2, 3}}}, 0.3, 1.0, {1.0 / 6, 1.0 / 6}, false, "ER reads the last two dims"},
    {{{"a", {8, 6}}, {"b", {4, 3}}}, 0.7, 0.904762, {0.736111, 0.472222}, false, "smaller layer denser"},
    {{{"a", {80, 4}}, {"b", {20, 20}}}, 0.8, 1.161290, {0.695161, 0.883871}, false, "thin layer denser"},
    {{{"a", {2, 6}}, {"b", {2, 3}}}, 0.8, 0.384615, {0.743590, 0.679487}, false, "floor rounding of targets"},
    {{{"a", {2, 4}}, {"b", {2, 3}}, {"c", {1, 1, 3}}}, 0.4, 0.818182, {0.386364, 0.318182, 0.8}, true,
     "custom layer outside the budget"},
    {{{"a", {2, 4}}, {"b", {2, 3}}, {"c", {1, 1, 3}}}, 0.9, 0.181818, {0.863636, 0.848485, 0.8}, true,
     "custom layer, high S"},
};

class ToyErTable : public ::testing::TestWithParam<ToyCase> {};

TEST_P(ToyErTable, MatchesRiglMdTable) {
  const ToyCase& c = GetParam();
  DistributionOptions options;
  options.kind = DistributionKind::kErdosRenyi;
  options.sparsity = c.S;
  if (c.var3_custom) options.custom["c"] = 0.8;
  const SparsityDistribution d = ComputeSparsities(c.shapes, options);
  EXPECT_NEAR(d.epsilon, c.eps, 1e-6) << c.why;
  ASSERT_EQ(d.layers.size(), c.s.size());
  for (size_t i = 0; i < c.s.size(); ++i) EXPECT_NEAR(d.layers[i].sparsity, c.s[i], 5e-7) << c.why << " layer " << i;
  if (c.var3_custom) {
    EXPECT_EQ(d.layers[2].source, LayerSparsity::kCustom);
  }
}
INSTANTIATE_TEST_SUITE_P(RiglMd5, ToyErTable, ::testing::ValuesIn(kToyCases));

TEST(ToyErTable, LowSparsityForcesSecondDenseAndFirstLandsAtDensityOne) {
  // (2,4), (2,3), (1,1,3) with c custom 0.8 at S = 0.1: pass 1 gives b density 14/11*5/6 > 1, so b is dense; pass 2
  // has rhs = 8 - floor(0.6) = 8, divisor = 0.75*8 = 6, ε = 4/3 and a's density is exactly 1.
  DistributionOptions options;
  options.kind = DistributionKind::kErdosRenyi;
  options.sparsity = 0.1;
  options.custom["c"] = 0.8;
  const SparsityDistribution d = ComputeSparsities({{"a", {2, 4}}, {"b", {2, 3}}, {"c", {1, 1, 3}}}, options);
  EXPECT_EQ(d.layers[1].source, LayerSparsity::kForcedDense);
  EXPECT_EQ(d.layers[0].source, LayerSparsity::kDistributed);
  EXPECT_NEAR(d.epsilon, 4.0 / 3.0, 1e-12);
  EXPECT_NEAR(d.layers[0].sparsity, 0.0, 1e-12);
  EXPECT_EQ(d.layers[0].nnz, 8);
  EXPECT_EQ(d.layers[1].nnz, 6);
  EXPECT_DOUBLE_EQ(d.layers[2].sparsity, 0.8);
}

// ---- properties the reference tests check ----
std::vector<models::LayerSpec> PropertyModels(int i) {
  switch (i) {
    case 0: return models::ResNet50();
    case 1: return models::Wrn22x2Cifar();
    case 2: return models::MobileNetV2();
    default: return models::LeNet5();
  }
}

TEST(Properties, ErkDensityRatioIsConstantAndBudgetIsMet) {
  for (int m = 0; m < 4; ++m) {
    for (double S : {0.5, 0.8, 0.9, 0.95, 0.99}) {
      DistributionOptions options;
      options.kind = DistributionKind::kErdosRenyiKernel;
      options.sparsity = S;
      const std::vector<LayerSpec> layers = PropertyModels(m);
      const SparsityDistribution d = ComputeSparsities(layers, options);
      // (1 - s_l) / p_l is the same ε for every distributed layer.
      int64_t budget_n = 0, budget_target = 0;
      for (const LayerSparsity& l : d.layers) {
        if (l.source == LayerSparsity::kDistributed) {
          EXPECT_NEAR((1.0 - l.sparsity) / l.raw_probability, d.epsilon, 1e-9 * d.epsilon) << l.name;
          // Distributed layers are the ones the iteration left sparse: strictly between empty and full.
          EXPECT_GT(l.sparsity, 0.0) << l.name;
          EXPECT_LT(l.sparsity, 1.0) << l.name;
        }
        if (l.source == LayerSparsity::kDistributed || l.source == LayerSparsity::kForcedDense) {
          budget_n += l.n;
          budget_target += l.n - static_cast<int64_t>(std::floor(S * l.n));
        }
      }
      // Realised ones over the budget layers equal the target up to one per layer (the floor on each s_l).
      int64_t budget_nnz = 0, budget_layers = 0;
      for (const LayerSparsity& l : d.layers) {
        if (l.source == LayerSparsity::kDistributed || l.source == LayerSparsity::kForcedDense) {
          budget_nnz += l.nnz;
          ++budget_layers;
        }
      }
      // Σ N_l(1 - s_l) = Σ t_l exactly (that is how ε is defined), and each layer rounds its ones up by < 1, so the
      // realised count is in [Σt, Σt + L). Σt itself is in [N(1 - S), N(1 - S) + L), hence |s - S| < 2L/N.
      EXPECT_GE(budget_nnz, budget_target - 1) << "model " << m << " S=" << S;
      EXPECT_LT(budget_nnz, budget_target + budget_layers) << "model " << m << " S=" << S;
      EXPECT_NEAR(d.BudgetSparsity(), S, 2.0 * budget_layers / budget_n);
    }
  }
}

TEST(Properties, ErkPowerScaleZeroIsUniform) {
  const std::vector<LayerSpec> layers = models::ResNet50();
  DistributionOptions erk0, uniform;
  erk0.kind = DistributionKind::kErdosRenyiKernel;
  erk0.erk_power_scale = 0.0;
  erk0.sparsity = uniform.sparsity = 0.9;
  const SparsityDistribution a = ComputeSparsities(layers, erk0);
  const SparsityDistribution b = ComputeSparsities(layers, uniform);
  for (size_t i = 0; i < layers.size(); ++i) {
    // p_l = 1 for all, ε = Σt/ΣN, which exceeds 1 - S by less than (number of layers)/ΣN (the per-layer floor).
    EXPECT_NEAR(a.layers[i].sparsity, 0.9, 54.0 / models::TotalMaskableWeights(layers)) << layers[i].name;
    EXPECT_EQ(a.layers[i].sparsity, a.layers[0].sparsity) << layers[i].name;
    // Same ones as Uniform up to the tiny shift of s times N (the reference test's "within ±2" on small layers).
    const double shift = std::fabs(a.layers[i].sparsity - 0.9) * static_cast<double>(a.layers[i].n);
    EXPECT_LE(std::llabs(a.layers[i].nnz - b.layers[i].nnz), shift + 1.0) << layers[i].name;
  }
}

TEST(Properties, CustomValuesPassThroughAndStayOutsideBudget) {
  const std::vector<LayerSpec> layers = models::ResNet50();
  DistributionOptions options;
  options.kind = DistributionKind::kErdosRenyiKernel;
  options.sparsity = 0.8;
  options.custom["conv1.weight"] = 0.0;
  options.custom["fc.weight"] = 0.37;
  const SparsityDistribution d = ComputeSparsities(layers, options);
  EXPECT_EQ(d.layers.front().sparsity, 0.0);
  EXPECT_EQ(d.layers.front().source, LayerSparsity::kCustom);
  EXPECT_EQ(d.layers.back().sparsity, 0.37);
  EXPECT_EQ(d.layers.back().nnz, models::MaskNnz(2048 * 1000, 0.37));
  EXPECT_NEAR(d.BudgetSparsity(), 0.8, 1e-5);
}

TEST(Properties, UnknownCustomKeyIsAnError) {
  DistributionOptions options;
  options.sparsity = 0.5;
  options.custom["fc9.weight"] = 0.5;
  try {
    ComputeSparsities(models::Mlp(), options);
    FAIL() << "expected an error for an unknown custom key";
  } catch (const engine::Error& e) {
    EXPECT_NE(std::string(e.what()).find("fc9.weight"), std::string::npos) << e.what();
  }
  options.custom.clear();
  options.custom["features.1.0.weight"] = 0.0;  // exists but is never masked
  EXPECT_THROW(ComputeSparsities(models::MobileNetV1(), options), engine::Error);
}

TEST(Properties, BadInputsAreErrors) {
  DistributionOptions options;
  options.sparsity = 1.0;
  EXPECT_THROW(ComputeSparsities(models::Mlp(), options), engine::Error);
  options.sparsity = -0.1;
  EXPECT_THROW(ComputeSparsities(models::Mlp(), options), engine::Error);
  options.sparsity = 0.5;
  options.custom["fc1.weight"] = 1.5;
  EXPECT_THROW(ComputeSparsities(models::Mlp(), options), engine::Error);
  EXPECT_THROW(ParseDistributionKind("erk2"), engine::Error);
  EXPECT_EQ(ParseDistributionKind("erk"), DistributionKind::kErdosRenyiKernel);
}

// ---- Uniform ----
TEST(Uniform, FirstLayerDenseResNet50) {
  // conv1 gets no mask; every other layer (fc included) is at S. RIGL.md §1.2: S=0.8 realises 0.7997 overall.
  const std::vector<LayerSpec> layers = models::ResNet50();
  DistributionOptions options;
  options.sparsity = 0.8;
  options.first_layer_dense = true;
  const SparsityDistribution d = ComputeSparsities(layers, options);
  ASSERT_EQ(d.layers.size(), 54u);
  EXPECT_EQ(d.layers[0].source, LayerSparsity::kNotMasked);
  EXPECT_EQ(d.layers[0].nnz, 7 * 7 * 3 * 64);
  for (size_t i = 1; i < d.layers.size(); ++i) EXPECT_EQ(d.layers[i].sparsity, 0.8);
  EXPECT_NEAR(d.OverallSparsity(), 0.7997, 5e-5);
}

TEST(Uniform, MobileNetKeepsFirstAndDepthwiseDense) {
  const std::vector<LayerSpec> layers = models::MobileNetV1();
  DistributionOptions options;
  options.sparsity = 0.9;
  const SparsityDistribution d = ComputeSparsities(layers, options);
  for (size_t i = 0; i < layers.size(); ++i) {
    const bool dense = i == 0 || layers[i].kind == LayerSpec::kDepthwiseConv;
    EXPECT_EQ(d.layers[i].source == LayerSparsity::kNotMasked, dense) << layers[i].name;
    EXPECT_EQ(d.layers[i].sparsity, dense ? 0.0 : 0.9) << layers[i].name;
  }
}

TEST(Uniform, MobileNetV1RealOverallSparsities) {
  // RIGL.md §1.1 / paper §4.1.2: 75/85/90/95% over the pruned layers are 74.2/84.1/89/94% overall, because the first
  // conv and the depthwise convs stay dense.
  const std::vector<LayerSpec> layers = models::MobileNetV1();
  const double cases[4][3] = {{0.75, 0.742, 0.0005}, {0.85, 0.841, 0.0005}, {0.90, 0.89, 0.005}, {0.95, 0.94, 0.005}};
  for (const auto& c : cases) {
    DistributionOptions options;
    options.sparsity = c[0];
    EXPECT_NEAR(ComputeSparsities(layers, options).OverallSparsity(), c[1], c[2]) << "S=" << c[0];
  }
}

TEST(Erk, ResNet50At99WithDenseConv1Realises9896) {
  // RIGL.md §1.3: ERK at 0.99 with conv1 kept dense (outside the budget) realises 0.9896 overall.
  DistributionOptions options;
  options.kind = DistributionKind::kErdosRenyiKernel;
  options.sparsity = 0.99;
  options.first_layer_dense = true;
  const SparsityDistribution d = ComputeSparsities(models::ResNet50(), options);
  EXPECT_EQ(d.layers[0].source, LayerSparsity::kNotMasked);
  EXPECT_NEAR(d.OverallSparsity(), 0.9896, 5e-5);
  EXPECT_NEAR(d.BudgetSparsity(), 0.99, 1e-5);
}

TEST(Uniform, MnistCustomMap) {
  const std::vector<LayerSpec> layers = models::Mlp();
  DistributionOptions options;
  options.sparsity = 0.99;
  options.custom = MnistMlpCustomMap(layers, 0.99);
  const SparsityDistribution d = ComputeSparsities(layers, options);
  EXPECT_EQ(d.layers[0].sparsity, 0.99);
  EXPECT_NEAR(d.layers[1].sparsity, 0.891, 1e-12);  // Appendix B's "99% / 89%"
  EXPECT_EQ(d.layers[2].sparsity, 0.0);
  EXPECT_EQ(d.layers[0].nnz, 235200 - 232848);  // floor(0.99 * 235200) = 232848
  EXPECT_EQ(d.layers[2].nnz, 1000);
}

}  // namespace
}  // namespace rigl
