// BatchNorm2d module: parameter and buffer names, initial values, and that training and inference modes take the
// batch and the running statistics respectively.
#include "engine/nn/batch_norm.h"

#include <cmath>

#include <gtest/gtest.h>

#include "tests/testutil/testutil.h"

namespace engine::nn {
namespace {

TEST(BatchNorm2dTest, NamesAndInitialValues) {
  BatchNorm2d bn("layer1.0.bn1", 3);
  ParameterList params;
  bn.CollectParameters(&params);
  ASSERT_EQ(params.dense.size(), 2u);
  EXPECT_EQ(params.dense[0]->name, "layer1.0.bn1.weight");
  EXPECT_EQ(params.dense[1]->name, "layer1.0.bn1.bias");
  std::vector<std::pair<std::string, Tensor*>> buffers;
  bn.CollectBuffers(&buffers);
  ASSERT_EQ(buffers.size(), 2u);
  EXPECT_EQ(buffers[0].first, "layer1.0.bn1.running_mean");
  EXPECT_EQ(buffers[1].first, "layer1.0.bn1.running_var");
  for (int64_t c = 0; c < 3; ++c) {
    EXPECT_EQ(bn.gamma().var.value()[c], 1.0f);
    EXPECT_EQ(bn.beta().var.value()[c], 0.0f);
    EXPECT_EQ((*buffers[0].second)[c], 0.0f);
    EXPECT_EQ((*buffers[1].second)[c], 1.0f);
  }
}

TEST(BatchNorm2dTest, TrainingNormalisesInferenceUsesRunningStats) {
  BatchNorm2d bn("bn", 2, /*momentum=*/1.0f);  // momentum 1: running stats become the last batch's
  Rng rng(71);
  Tensor x = testutil::RandomDense({2, 4, 3, 3}, rng);
  for (int64_t i = 0; i < x.size(); ++i) x[i] = 3 * x[i] + 5;  // mean 5, far from the initial running mean 0
  Variable y = bn.Forward(Constant(x));
  for (int64_t c = 0; c < 2; ++c) {
    double mean = 0, sq = 0;
    for (int64_t i = 0; i < 36; ++i) mean += y.value()[c * 36 + i];
    mean /= 36;
    for (int64_t i = 0; i < 36; ++i) sq += std::pow(y.value()[c * 36 + i] - mean, 2);
    EXPECT_NEAR(mean, 0.0, 1e-5);
    EXPECT_NEAR(sq / 36, 1.0, 1e-3);  // eps = 1e-5 against a variance near 3
  }
  // Inference on the same batch with running stats = batch stats (unbiased variance): nearly the same output.
  bn.SetTraining(false);
  Variable z = bn.Forward(Constant(x));
  for (int64_t i = 0; i < x.size(); ++i) {
    EXPECT_NEAR(z.value()[i], y.value()[i] * std::sqrt(35.0 / 36.0), 1e-4) << "element " << i;
  }
}

}  // namespace
}  // namespace engine::nn
