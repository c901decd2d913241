// nn::Linear: names, exact nnz, Glorot-uniform limits over the dense fan-in/out, zero biases, determinism, and
// that the sparse and dense paths compute W·x + b.
#include "engine/nn/linear.h"

#include <cmath>

#include <gtest/gtest.h>

#include "engine/base/check.h"
#include "tests/testutil/testutil.h"

namespace engine::nn {
namespace {

TEST(NnLinearTest, DenseParametersNamedAndInitialised) {
  Linear fc("fc1", /*in=*/20, /*out=*/10, 1.0, -1, /*seed=*/5);
  ParameterList params;
  fc.CollectParameters(&params);
  ASSERT_EQ(params.dense.size(), 2u);
  ASSERT_EQ(params.sparse.size(), 0u);
  EXPECT_EQ(params.dense[0]->name, "fc1.weight");
  EXPECT_EQ(params.dense[1]->name, "fc1.bias");
  EXPECT_EQ(params.dense[0]->var.value().shape(), (std::vector<int64_t>{10, 20}));
  const float limit = std::sqrt(6.0f / 30.0f);
  float max_abs = 0;
  for (int64_t i = 0; i < 200; ++i) max_abs = std::max(max_abs, std::abs(params.dense[0]->var.value()[i]));
  EXPECT_LE(max_abs, limit);
  EXPECT_GT(max_abs, 0.8f * limit);  // 200 uniform draws reach the top 20% of the range
  for (int64_t i = 0; i < 10; ++i) EXPECT_EQ(params.dense[1]->var.value()[i], 0.0f);
}

TEST(NnLinearTest, SparseHasExactNnzAndDenseFanInit) {
  Linear fc("block.fc", /*in=*/300, /*out=*/100, /*density=*/0.1, /*nnz=*/-1, /*seed=*/9);
  ASSERT_TRUE(fc.is_sparse());
  EXPECT_EQ(fc.sparse_weight()->name, "block.fc.weight");
  EXPECT_EQ(fc.sparse_weight()->weight.nnz(), 3000);
  EXPECT_EQ(fc.sparse_weight()->grad.size(), 3000u);
  const float limit = std::sqrt(6.0f / 400.0f);  // the dense fan-in + fan-out, no sparsity rescaling
  for (float v : fc.sparse_weight()->weight.values()) EXPECT_LE(std::abs(v), limit);
  Linear exact("fc2", 50, 40, 0.5, /*nnz=*/123, 9);
  EXPECT_EQ(exact.sparse_weight()->weight.nnz(), 123);
}

TEST(NnLinearTest, SameSeedSameWeightsDifferentNameDifferentWeights) {
  Linear a("fc1", 30, 20, 0.2, -1, 1), b("fc1", 30, 20, 0.2, -1, 1), c("fc2", 30, 20, 0.2, -1, 1);
  EXPECT_EQ(a.sparse_weight()->weight.col_indices(), b.sparse_weight()->weight.col_indices());
  EXPECT_TRUE(testutil::BitIdentical(a.sparse_weight()->weight.values().data(),
                                     b.sparse_weight()->weight.values().data(), a.sparse_weight()->weight.nnz()));
  EXPECT_NE(a.sparse_weight()->weight.col_indices(), c.sparse_weight()->weight.col_indices());
}

TEST(NnLinearTest, SparseForwardIsWxPlusB) {
  Linear fc("fc", 8, 6, 0.4, -1, 3);
  Rng rng(2);
  fc.bias()->var.value() = testutil::RandomDense({6}, rng);
  Variable x = Constant(testutil::RandomDense({8, 5}, rng));
  Variable y = fc.Forward(x);
  testutil::DenseF64 expected =
      testutil::MatmulF64(testutil::ToF64(fc.sparse_weight()->weight.ToDense()), testutil::ToF64(x.value()));
  for (int64_t i = 0; i < 6; ++i)
    for (int64_t j = 0; j < 5; ++j) expected.data[i * 5 + j] += fc.bias()->var.value()[i];
  EXPECT_TRUE(testutil::AllClose(y.value(), expected, 1e-5));
}

TEST(NnLinearTest, NoBias) {
  Linear fc("fc", 4, 3, 1.0, -1, 1, /*bias=*/false);
  ParameterList params;
  fc.CollectParameters(&params);
  EXPECT_EQ(params.dense.size(), 1u);
  EXPECT_EQ(fc.bias(), nullptr);
}

TEST(NnLinearTest, BadArgumentsThrow) {
  EXPECT_THROW(Linear("fc", 0, 3), Error);
  EXPECT_THROW(Linear("fc", 3, 3, 0.0), Error);
  EXPECT_THROW(Linear("fc", 3, 3, 1.5), Error);
  EXPECT_THROW(Linear("fc", 3, 3, 0.5, /*nnz=*/10), Error);  // more than 9 positions
}

}  // namespace
}  // namespace engine::nn
