// Tests for the FLOPs benchmark's model descriptions and plans (bench_model.h): every registry model can be
// described, the WRN-22-2 variant is CIFAR's, and where the bench measures the registry's own table its plan is
// exactly rigl::MakeSparsityPlan's (so the bench's plan builder cannot drift from the trainer's).
#include "bench/flops/bench_model.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/base/check.h"
#include "models/architectures.h"
#include "models/layer_spec.h"
#include "models/networks.h"
#include "rigl/config.h"
#include "rigl/method.h"
#include "rigl/plan.h"

namespace flopsbench {
namespace {

TEST(DescribeBenchModel, EveryRegistryModelTakesItsNetworksInput) {
  for (const models::ModelInfo& info : models::AllModels()) {
    if (IsSequenceModel(info.name)) {
      EXPECT_THROW(DescribeBenchModel(info.name, {}), engine::Error) << info.name;
      continue;
    }
    const BenchModel m = DescribeBenchModel(info.name, {64, 32});
    EXPECT_EQ(m.name, info.name);
    EXPECT_FALSE(m.layers.empty()) << info.name;
    // Built end to end: the registry's trainable models, and ResNet-50 through bench/flops/resnet50.
    EXPECT_EQ(m.buildable(), info.build != nullptr || m.name == "resnet50") << info.name;
  }
}

TEST(DescribeBenchModel, UnknownModelNamesTheFlagAndTheList) {
  try {
    DescribeBenchModel("vgg16", {});
    FAIL() << "expected engine::Error";
  } catch (const engine::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("--model=vgg16"), std::string::npos) << what;
    EXPECT_NE(what.find(models::ModelNameList(false)), std::string::npos) << what;
  }
}

TEST(DescribeBenchModel, Wrn22x2IsMeasuredAtCifarSize) {
  const BenchModel m = DescribeBenchModel("wrn22_2", {});
  const std::vector<models::LayerSpec> cifar = models::Wrn22x2Cifar();
  ASSERT_EQ(m.layers.size(), cifar.size());
  for (size_t l = 0; l < cifar.size(); ++l) {
    EXPECT_EQ(m.layers[l].name, cifar[l].name);
    EXPECT_EQ(m.layers[l].N(), cifar[l].N()) << cifar[l].name;
    EXPECT_EQ(m.layers[l].input_hw, cifar[l].input_hw) << cifar[l].name;
  }
  EXPECT_EQ(m.network.in_channels, 3);
  EXPECT_EQ(m.network.input_hw, 32);
  EXPECT_EQ(m.smoke_batch, 2);
}

// The MobileNets are trained on 28x28x1 and measured at ImageNet shape: the bench's table is the ImageNet one (the
// RigL counter's view, whose dense totals tests/models/flops_test checks against the paper's colab), and its
// network is built from the same layout.
TEST(DescribeBenchModel, MobileNetsAreMeasuredAtImageNetShape) {
  for (const char* name : {"mobilenet_v1", "mobilenet_v2"}) {
    const BenchModel m = DescribeBenchModel(name, {});
    const std::vector<models::LayerSpec> imagenet =
        std::string(name) == "mobilenet_v1" ? models::MobileNetV1() : models::MobileNetV2();
    ASSERT_EQ(m.layers.size(), imagenet.size()) << name;
    for (size_t l = 0; l < imagenet.size(); ++l) {
      EXPECT_EQ(m.layers[l].name, imagenet[l].name) << name;
      EXPECT_EQ(m.layers[l].N(), imagenet[l].N()) << imagenet[l].name;
      EXPECT_EQ(m.layers[l].input_hw, imagenet[l].input_hw) << imagenet[l].name;
    }
    EXPECT_EQ(m.network.in_channels, 3) << name;
    EXPECT_EQ(m.network.input_hw, 224) << name;
    EXPECT_EQ(m.network.num_classes, 1000) << name;
    EXPECT_TRUE(m.buildable()) << name;
  }
}

TEST(MakeBenchPlan, StoresEveryMaskedWeightAtItsMaskCount) {
  rigl::TrainConfig trainer;
  trainer.distribution = "erk";
  const BenchModel m = DescribeBenchModel("wrn22_2", {});
  const rigl::SparsityPlan plan = MakeBenchPlan(m, 0.1, trainer);
  ASSERT_EQ(plan.sparsities.size(), m.layers.size());
  for (size_t l = 0; l < m.layers.size(); ++l) {
    const std::string& name = m.layers[l].name;
    const auto it = plan.network.plan.find(name);
    if (plan.sparsities[l] <= 0) {
      EXPECT_EQ(it, plan.network.plan.end()) << name << " is dense; expected no storage entry";
      continue;
    }
    ASSERT_NE(it, plan.network.plan.end()) << name;
    EXPECT_TRUE(it->second.sparse) << name;
    EXPECT_EQ(it->second.nnz, models::MaskNnz(m.layers[l].N(), plan.sparsities[l])) << name;
    EXPECT_EQ(plan.target_nnz.at(name), it->second.nnz) << name;
  }
  EXPECT_EQ(plan.network.in_channels, 3);
  EXPECT_EQ(plan.network.input_hw, 32);
}

// Where the bench's table is the registry's, its plan is the trainer's plan for a static (or, at density 1, dense)
// run, field by field. Rows: model x distribution x first-layer rule x density.
TEST(MakeBenchPlan, MatchesRiglPlanOnTheRegistryTables) {
  struct Case { const char* model; const char* distribution; };
  const Case cases[] = {{"mlp", "uniform"},      {"mlp", "erk"},         {"mlp", "mnist"},
                        {"lenet5", "uniform"},   {"lenet5", "er"},       {"resnet50", "uniform"},
                        {"resnet50", "erk"}};
  for (const Case& c : cases) {
    for (const bool first_layer_dense : {false, true}) {
      for (const double density : {1.0, 0.5, 0.1, 0.01}) {
        rigl::TrainConfig config;
        config.model = c.model;
        config.width = {64, 32};
        config.distribution = c.distribution;
        config.first_layer_dense = first_layer_dense;
        config.seed = 7;
        config.sparsity = 1.0 - density;
        config.method = density >= 1.0 ? rigl::Method::kDense : rigl::Method::kStatic;
        const std::string where = std::string(c.model) + " " + c.distribution +
                                  (first_layer_dense ? " first layer dense" : "") + " d=" + std::to_string(density);
        const rigl::SparsityPlan want = rigl::MakeSparsityPlan(config);
        const rigl::SparsityPlan got = MakeBenchPlan(DescribeBenchModel(c.model, config.width), density, config);
        ASSERT_EQ(got.layers.size(), want.layers.size()) << where;
        for (size_t l = 0; l < want.layers.size(); ++l) EXPECT_EQ(got.layers[l].name, want.layers[l].name) << where;
        EXPECT_EQ(got.sparsities, want.sparsities) << where;
        EXPECT_EQ(got.target_nnz, want.target_nnz) << where;
        ASSERT_EQ(got.network.plan.size(), want.network.plan.size()) << where;
        for (const auto& [name, storage] : want.network.plan) {
          ASSERT_EQ(got.network.plan.count(name), 1u) << where << " " << name;
          EXPECT_EQ(got.network.plan.at(name).sparse, storage.sparse) << where << " " << name;
          EXPECT_EQ(got.network.plan.at(name).nnz, storage.nnz) << where << " " << name;
        }
        EXPECT_EQ(got.network.seed, want.network.seed) << where;
        if (config.model == "mlp") {
          EXPECT_EQ(got.network.hidden, want.network.hidden) << where;
        }
      }
    }
  }
}

}  // namespace
}  // namespace flopsbench
