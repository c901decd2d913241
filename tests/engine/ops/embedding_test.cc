// Embedding op: the lookup by hand, the table's gradient against central differences (repeated ids accumulate),
// 1 vs 2 threads bit-identical, and ids that are not whole numbers in range refused.
#include "engine/ops/embedding.h"

#include <gtest/gtest.h>

#include "engine/autograd/gradcheck.h"
#include "engine/base/check.h"
#include "engine/base/parallel.h"
#include "tests/testutil/testutil.h"

namespace engine {
namespace {

TEST(EmbeddingTest, LooksUpRowsTimeMajor) {
  Rng rng(1);
  DenseParameter table("embedding.weight", testutil::RandomDense({5, 3}, rng));
  Tensor ids({2, 2});  // [steps, batch]
  ids[0] = 4, ids[1] = 0, ids[2] = 4, ids[3] = 2;
  Variable y = Embedding(ids.view(), table);
  ASSERT_EQ(y.shape(), (std::vector<int64_t>{3, 4}));
  const int expected_ids[4] = {4, 0, 4, 2};  // column t * batch + b
  for (int64_t e = 0; e < 3; ++e)
    for (int64_t c = 0; c < 4; ++c) EXPECT_EQ(y.value()[e * 4 + c], table.var.value()[expected_ids[c] * 3 + e]);
}

TEST(EmbeddingTest, TableGradientMatchesFiniteDifferences) {
  Rng rng(2);
  DenseParameter table("embedding.weight", testutil::RandomDense({6, 4}, rng));
  Tensor ids({3, 2});
  const float v[6] = {1, 5, 1, 1, 0, 5};  // repeats: gradients of one row add up; rows 2, 3, 4 get none
  for (int i = 0; i < 6; ++i) ids[i] = v[i];
  const GradCheckReport r = GradCheck([&] { return Embedding(ids.view(), table); }, {LeafInput(table.var)});
  EXPECT_TRUE(r.ok) << r.first_failure;
  EXPECT_EQ(r.checked, 24);
}

TEST(EmbeddingTest, OneAndTwoThreadsAreBitIdentical) {
  std::vector<float> g[2];
  for (int t = 0; t < 2; ++t) {
    SetNumThreads(t + 1);
    Rng rng(3);
    DenseParameter table("embedding.weight", testutil::RandomDense({256, 40}, rng));
    Tensor ids({16, 8});
    for (int64_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<float>(rng.UniformInt(256));
    Variable y = Embedding(ids.view(), table);
    Backward(y, testutil::RandomDense({40, 128}, rng));
    g[t].assign(table.var.grad().data(), table.var.grad().data() + table.var.grad().size());
  }
  SetNumThreads(2);
  EXPECT_EQ(g[0], g[1]);
}

TEST(EmbeddingTest, RefusesIdsOutsideTheTable) {
  DenseParameter table("embedding.weight", Tensor({4, 2}));
  for (float bad : {-1.0f, 4.0f, 1.5f}) {
    Tensor ids({1, 2});
    ids[1] = bad;
    try {
      Embedding(ids.view(), table);
      ADD_FAILURE() << "no error for id " << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("embedding.weight"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("[0, 4)"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace engine
