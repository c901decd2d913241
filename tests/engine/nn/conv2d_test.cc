// nn::Conv2d: dense/sparse dispatch, parameter names and shapes, exact nnz, He-normal initialisation statistics over
// the dense fan-in, seed determinism, and that the sparse module computes the same convolution as a dense module
// holding the densified weight.
#include "engine/nn/conv2d.h"

#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "engine/autograd/variable.h"
#include "engine/base/check.h"
#include "tests/testutil/testutil.h"

namespace engine::nn {
namespace {

TEST(Conv2dModule, DenseByDefault) {
  Conv2d conv("layer1.0.conv1", 3, 8, 3, 1, 1);
  EXPECT_FALSE(conv.is_sparse());
  ASSERT_NE(conv.dense_weight(), nullptr);
  EXPECT_EQ(conv.dense_weight()->name, "layer1.0.conv1.weight");
  EXPECT_EQ(conv.dense_weight()->var.value().shape(), (std::vector<int64_t>{8, 3, 3, 3}));
  ASSERT_NE(conv.bias(), nullptr);
  EXPECT_EQ(conv.bias()->name, "layer1.0.conv1.bias");
  ParameterList params;
  conv.CollectParameters(&params);
  EXPECT_EQ(params.dense.size(), 2u);
  EXPECT_TRUE(params.sparse.empty());
}

TEST(Conv2dModule, SparseWithExactNnz) {
  Conv2d sparse("c", 16, 32, 3, 1, 1, WeightStorage::Sparse(461));
  ASSERT_TRUE(sparse.is_sparse());
  EXPECT_EQ(sparse.sparse_weight()->weight().nnz(), 461);
  EXPECT_EQ(sparse.sparse_weight()->weight().rows(), 32);
  EXPECT_EQ(sparse.sparse_weight()->weight().cols(), 16 * 9);
  Conv2d by_count("c", 16, 32, 3, 1, 1, WeightStorage::Sparse(123), 0, /*bias=*/false);
  EXPECT_EQ(by_count.sparse_weight()->weight().nnz(), 123);
  EXPECT_EQ(by_count.bias(), nullptr);
  ParameterList params;
  by_count.CollectParameters(&params);
  EXPECT_EQ(params.sparse.size(), 1u);
  EXPECT_TRUE(params.dense.empty());
}

TEST(Conv2dModule, HeNormalOverDenseFanIn) {
  // 64 x 32 x 3 x 3 = 18432 values: the sample std is within a few percent of sqrt(2 / 288).
  for (double density : {1.0, 0.2}) {
    const WeightStorage storage =
        density >= 1.0 ? WeightStorage::Dense() : WeightStorage::Sparse(std::llround(density * 64 * 32 * 9));
    Conv2d conv("c", 32, 64, 3, 1, 1, storage, /*seed=*/5);
    const float* v = conv.is_sparse() ? conv.sparse_weight()->weight().values().data()
                                      : conv.dense_weight()->var.value().data();
    const int64_t n = conv.is_sparse() ? conv.sparse_weight()->weight().nnz() : conv.dense_weight()->var.value().size();
    double sum = 0, sum_sq = 0;
    for (int64_t i = 0; i < n; ++i) sum += v[i], sum_sq += static_cast<double>(v[i]) * v[i];
    const double mean = sum / n, std_dev = std::sqrt(sum_sq / n - mean * mean);
    const double expected = std::sqrt(2.0 / (32 * 9));
    EXPECT_NEAR(std_dev, expected, 0.05 * expected) << "density " << density;
    EXPECT_NEAR(mean, 0.0, 0.05 * expected) << "density " << density;
  }
}

// FanMode::kStored: He normal over the stored fan-in nnz / K. At density 0.2 of 64 x 288 that is 3686 / 64 = 57.6,
// so every value is the kDense value (same normal draw) times sqrt(288 / 57.6).
TEST(Conv2dModule, StoredFanInitScalesByNnzPerFilter) {
  Conv2d dense_fan("c", 32, 64, 3, 1, 1, WeightStorage::Sparse(3686), /*seed=*/5);
  Conv2d stored_fan("c", 32, 64, 3, 1, 1, WeightStorage::Sparse(3686), 5, /*bias=*/true, FanMode::kStored);
  const CsrMatrix& a = dense_fan.sparse_weight()->weight();
  const CsrMatrix& b = stored_fan.sparse_weight()->weight();
  ASSERT_EQ(b.nnz(), 3686);  // 0.2 of 18432, rounded
  EXPECT_EQ(a.col_indices(), b.col_indices());
  const double scale = std::sqrt(288.0 / (3686.0 / 64.0));
  for (int64_t q = 0; q < b.nnz(); ++q) {
    EXPECT_NEAR(b.values()[q], a.values()[q] * scale, 1e-5 * std::abs(b.values()[q]) + 1e-7);
  }
}

TEST(Conv2dModule, SameSeedSameWeightsDifferentSeedDifferent) {
  const WeightStorage half = WeightStorage::Sparse(72);  // of 144
  Conv2d a("c", 4, 4, 3, 1, 1, half, 9), b("c", 4, 4, 3, 1, 1, half, 9), c("c", 4, 4, 3, 1, 1, half, 10);
  EXPECT_EQ(a.sparse_weight()->weight().col_indices(), b.sparse_weight()->weight().col_indices());
  EXPECT_TRUE(testutil::BitIdentical(a.sparse_weight()->weight().values().data(),
                                     b.sparse_weight()->weight().values().data(), a.sparse_weight()->weight().nnz()));
  EXPECT_NE(a.sparse_weight()->weight().values(), c.sparse_weight()->weight().values());
}

TEST(Conv2dModule, SparseForwardEqualsDenseModuleWithDensifiedWeight) {
  Conv2d sparse("s", 3, 5, 3, 2, 1, WeightStorage::Sparse(54), 3);  // 0.4 of 135
  Conv2d dense("d", 3, 5, 3, 2, 1);
  const Tensor w = sparse.sparse_weight()->weight().ToDense();  // [5, 27] == [5, 3, 3, 3] flattened
  std::copy(w.data(), w.data() + w.size(), dense.dense_weight()->var.value().data());
  Rng rng(4);
  const Variable x = Constant(testutil::RandomDense({3, 2, 7, 7}, rng));
  const Variable ys = sparse.Forward(x), yd = dense.Forward(x);
  ASSERT_EQ(ys.shape(), (std::vector<int64_t>{5, 2, 4, 4}));
  ASSERT_EQ(yd.shape(), ys.shape());
  EXPECT_TRUE(testutil::AllClose(ys.value(), testutil::ToF64(yd.value()), 1e-5));
}

TEST(Conv2dModule, BadArgumentsNameTheModule) {
  try {
    Conv2d conv("layer9.conv", 3, 8, 3, 0, 1);
    FAIL() << "stride 0 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("layer9.conv"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Conv2d("c", 3, 8, 3, 1, 1, WeightStorage::Sparse(-1)), Error);
  EXPECT_THROW(Conv2d("c", 3, 8, 3, 1, 1, WeightStorage::Sparse(1000)), Error);  // > 8 * 27
}

}  // namespace
}  // namespace engine::nn
