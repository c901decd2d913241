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
  Linear fc("fc1", /*in=*/20, /*out=*/10, WeightStorage::Dense(), /*seed=*/5);
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
  Linear fc("block.fc", /*in=*/300, /*out=*/100, WeightStorage::Sparse(3000), /*seed=*/9);
  ASSERT_TRUE(fc.is_sparse());
  EXPECT_EQ(fc.sparse_weight()->name, "block.fc.weight");
  EXPECT_EQ(fc.sparse_weight()->weight().nnz(), 3000);
  EXPECT_EQ(fc.sparse_weight()->grad.size(), 3000u);
  const float limit = std::sqrt(6.0f / 400.0f);  // the dense fan-in + fan-out, no sparsity rescaling
  for (float v : fc.sparse_weight()->weight().values()) EXPECT_LE(std::abs(v), limit);
  Linear exact("fc2", 50, 40, WeightStorage::Sparse(123), 9);
  EXPECT_EQ(exact.sparse_weight()->weight().nnz(), 123);
}

// FanMode::kStored: Glorot over the average stored fans, nnz / out and nnz / in, computed here by hand. Same pattern
// as kDense (the pattern is drawn before the values from the same stream), only the scale differs.
TEST(NnLinearTest, StoredFanInitUsesNnzPerRowAndColumn) {
  Linear dense_fan("fc", /*in=*/2000, /*out=*/1000, WeightStorage::Sparse(20000), /*seed=*/3);
  Linear stored_fan("fc", 2000, 1000, WeightStorage::Sparse(20000), 3, /*bias=*/true, FanMode::kStored);
  const CsrMatrix& a = dense_fan.sparse_weight()->weight();
  const CsrMatrix& b = stored_fan.sparse_weight()->weight();
  ASSERT_EQ(b.nnz(), 20000);
  EXPECT_EQ(a.col_indices(), b.col_indices());
  const float dense_limit = std::sqrt(6.0f / 3000.0f);
  const float stored_limit = std::sqrt(6.0f / (20000.0f / 1000 + 20000.0f / 2000));  // fan-in 20, fan-out 10
  float max_a = 0, max_b = 0;
  for (int64_t q = 0; q < b.nnz(); ++q) {
    max_a = std::max(max_a, std::abs(a.values()[q]));
    max_b = std::max(max_b, std::abs(b.values()[q]));
    // Same uniform draw, scaled by the other limit.
    EXPECT_NEAR(b.values()[q], a.values()[q] * (stored_limit / dense_limit), 1e-5f * stored_limit);
  }
  EXPECT_LE(max_b, stored_limit);
  EXPECT_GT(max_b, 0.99f * stored_limit);  // 20000 uniform draws reach the top 1% of the range
  EXPECT_LE(max_a, dense_limit);
  // A dense layer ignores the mode: its fans are its shape.
  Linear dense_layer("d", 20, 10, WeightStorage::Dense(), 5, true, FanMode::kStored);
  Linear dense_ref("d", 20, 10, WeightStorage::Dense(), 5);
  EXPECT_TRUE(testutil::BitIdentical(dense_layer.dense_weight()->var.value().data(),
                                     dense_ref.dense_weight()->var.value().data(), 200));
}

TEST(NnLinearTest, SameSeedSameWeightsDifferentNameDifferentWeights) {
  const WeightStorage s = WeightStorage::Sparse(120);  // 0.2 of 600
  Linear a("fc1", 30, 20, s, 1), b("fc1", 30, 20, s, 1), c("fc2", 30, 20, s, 1);
  EXPECT_EQ(a.sparse_weight()->weight().col_indices(), b.sparse_weight()->weight().col_indices());
  EXPECT_TRUE(testutil::BitIdentical(a.sparse_weight()->weight().values().data(),
                                     b.sparse_weight()->weight().values().data(), a.sparse_weight()->weight().nnz()));
  EXPECT_NE(a.sparse_weight()->weight().col_indices(), c.sparse_weight()->weight().col_indices());
}

TEST(NnLinearTest, SparseForwardIsWxPlusB) {
  Linear fc("fc", 8, 6, WeightStorage::Sparse(19), 3);  // 0.4 of 48, rounded
  Rng rng(2);
  fc.bias()->var.value() = testutil::RandomDense({6}, rng);
  Variable x = Constant(testutil::RandomDense({8, 5}, rng));
  Variable y = fc.Forward(x);
  testutil::DenseF64 expected =
      testutil::MatmulF64(testutil::ToF64(fc.sparse_weight()->weight().ToDense()), testutil::ToF64(x.value()));
  for (int64_t i = 0; i < 6; ++i)
    for (int64_t j = 0; j < 5; ++j) expected.data[i * 5 + j] += fc.bias()->var.value()[i];
  EXPECT_TRUE(testutil::AllClose(y.value(), expected, 1e-5));
}

TEST(NnLinearTest, NoBias) {
  Linear fc("fc", 4, 3, WeightStorage::Dense(), 1, /*bias=*/false);
  ParameterList params;
  fc.CollectParameters(&params);
  EXPECT_EQ(params.dense.size(), 1u);
  EXPECT_EQ(fc.bias(), nullptr);
}

TEST(NnLinearTest, BadArgumentsThrow) {
  EXPECT_THROW(Linear("fc", 0, 3), Error);
  EXPECT_THROW(Linear("fc", 3, 3, WeightStorage::Sparse(-1)), Error);
  EXPECT_THROW(Linear("fc", 3, 3, WeightStorage::Sparse(10)), Error);  // more than 9 positions
}

}  // namespace
}  // namespace engine::nn
