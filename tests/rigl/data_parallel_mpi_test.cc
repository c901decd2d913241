// rigl::DataParallel on every rank of an mpirun job (run_mpi_test.sh starts 1, 2 and 3 ranks): the gradient exchange
// gives sum over ranks of share x local gradient (oracle: the double sum of the same numbers, every rank's values
// being known in closed form), leaves skipped gradients alone, sums dense-gradient tiles as they are read, and the
// replica check passes on identical models and names the parameter when one rank's differs.
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/autograd/parameter.h"
#include "engine/base/check.h"
#include "engine/sparse/csr.h"
#include "engine/tensor/tensor.h"
#include "rigl/data_parallel.h"
#include "tests/engine/dist/mpi_test_env.h"

namespace rigl {
namespace {

using engine::dist::testing::world;

float Grad(int rank, int64_t i) { return 0.25f * static_cast<float>(rank + 1) - 0.01f * static_cast<float>(i); }

const std::vector<int32_t> kColumns = {0, 3, 1, 2, 4, 0, 4};

// A 4 x 5 CSR weight with 7 stored entries at `cols` (row offsets 0, 2, 3, 5, 7).
engine::SparseParameter MakeSparse(const std::string& name, std::vector<int32_t> cols) {
  engine::CsrMatrix m = engine::CsrMatrix::FromParts(4, 5, {0, 2, 3, 5, 7}, std::move(cols),
                                                     {0.1f, -0.2f, 0.3f, 0.4f, -0.5f, 0.6f, 0.7f});
  return engine::SparseParameter(name, std::move(m));
}

struct Model {
  explicit Model(const std::vector<int32_t>& fc1_cols = kColumns) : w1(MakeSparse("fc1.weight", fc1_cols)) {
    for (int64_t i = 0; i < 3; ++i) b.var.value()[i] = 0.5f;
  }
  engine::SparseParameter w1;
  engine::SparseParameter w2 = MakeSparse("fc2.weight", kColumns);
  engine::DenseParameter b{"fc1.bias", engine::Tensor({3})};
  engine::Tensor running{std::vector<int64_t>{2}};
  DataParallel dp{world, {{&b}, {&w1, &w2}}, {{"bn.running_mean", &running}}};
};

// share_r: rank r holds r + 1 of the global batch's sum_{q < p} (q + 1) samples.
double Share(int rank, int p) { return (rank + 1.0) / (p * (p + 1) / 2.0); }

TEST(DataParallelMpi, ReduceSumsShareWeightedGradientsAndBuffers) {
  const int p = world->size(), r = world->rank();
  Model m;
  for (int64_t i = 0; i < 7; ++i) m.w1.grad[i] = Grad(r, i);
  for (int64_t i = 0; i < 7; ++i) m.w2.grad[i] = 100.0f + r;  // skipped below: must stay this rank's own
  m.w2.skip_pattern_grad = true;
  for (int64_t i = 0; i < 3; ++i) m.b.var.grad()[i] = Grad(r, 10 + i);
  m.running[0] = static_cast<float>(r);
  m.running[1] = 1.0f;
  m.dp.Reduce(Share(r, p), /*dense_grads=*/true);
  auto expect_sum = [&](float got, auto local, const char* what, int64_t i) {
    double want = 0;
    for (int q = 0; q < p; ++q) want += Share(q, p) * static_cast<double>(local(q));
    EXPECT_NEAR(got, want, 1e-6 * (1 + std::fabs(want))) << what << " " << i << " on " << world->Describe();
  };
  for (int64_t i = 0; i < 7; ++i) expect_sum(m.w1.grad[i], [&](int q) { return Grad(q, i); }, "fc1 grad", i);
  for (int64_t i = 0; i < 7; ++i) EXPECT_EQ(m.w2.grad[i], 100.0f + r) << "skipped gradient " << i;
  for (int64_t i = 0; i < 3; ++i) {
    expect_sum(m.b.var.grad()[i], [&](int q) { return Grad(q, 10 + i); }, "bias grad", i);
  }
  expect_sum(m.running[0], [&](int q) { return static_cast<float>(q); }, "running mean", 0);
  expect_sum(m.running[1], [](int) { return 1.0f; }, "running mean", 1);
  EXPECT_EQ(m.dp.last_exchange_floats(), 7 + 3 + 2);

  // Without dense_grads the dense parameters keep their local gradient.
  m.b.var.grad()[0] = 7.0f + r;
  m.w2.skip_pattern_grad = false;
  m.dp.Reduce(Share(r, p), /*dense_grads=*/false);
  EXPECT_EQ(m.b.var.grad()[0], 7.0f + r);
  EXPECT_EQ(m.dp.last_exchange_floats(), 7 + 7 + 2);
}

TEST(DataParallelMpi, DenseGradientTilesAreSummedAsTheyAreRead) {
  const int p = world->size(), r = world->rank();
  Model m;
  m.w1.want_dense_grad = true;
  // This rank's dense gradient: 4 x 5, cell (i, j) = Grad(r, 5 i + j).
  m.w1.dense_grad_rows = [r](int64_t r0, int64_t r1, engine::DenseView out) {
    for (int64_t i = r0; i < r1; ++i) {
      for (int64_t j = 0; j < 5; ++j) out.at(i - r0, j) = Grad(r, 5 * i + j);
    }
  };
  m.dp.Reduce(Share(r, p), /*dense_grads=*/true);
  // Read in two tiles, the second with a padded row stride.
  std::vector<float> tile(3 * 8, -1.0f);
  m.w1.dense_grad_rows(0, 3, {tile.data(), 3, 5, 5});
  std::vector<float> padded(1 * 8, -1.0f);
  m.w1.dense_grad_rows(3, 4, {padded.data(), 1, 5, 8});
  for (int64_t i = 0; i < 4; ++i) {
    for (int64_t j = 0; j < 5; ++j) {
      double want = 0;
      for (int q = 0; q < p; ++q) want += Share(q, p) * Grad(q, 5 * i + j);
      const float got = i < 3 ? tile[i * 5 + j] : padded[j];
      EXPECT_NEAR(got, want, 1e-6 * (1 + std::fabs(want))) << "cell " << i << "," << j;
    }
  }
  EXPECT_EQ(padded[5], -1.0f) << "the padding after the row is not the tile's";
  EXPECT_GT(m.dp.tile_bytes_sent(), p > 1 ? 0 : -1);
}

TEST(DataParallelMpi, ReplicaCheckPassesOnIdenticalModelsAndNamesTheOneThatDiffers) {
  const int p = world->size(), r = world->rank();
  Model m;
  EXPECT_NO_THROW(m.dp.CheckReplicasAgree("at the start"));
  if (p == 1) return;  // one rank cannot differ from itself
  // The last rank's fc2 values drift by one ulp: every rank must stop, naming fc2.weight and that rank.
  if (r == p - 1) m.w2.mutable_values()[3] = std::nextafter(m.w2.values()[3], 1.0f);
  try {
    m.dp.CheckReplicasAgree("after the topology update of iteration 300");
    ADD_FAILURE() << "the check passed although rank " << p - 1 << " holds different values";
  } catch (const engine::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("fc2.weight (values) on rank " + std::to_string(p - 1)), std::string::npos) << what;
    EXPECT_NE(what.find("after the topology update of iteration 300"), std::string::npos) << what;
  }
  // A pattern that differs is named as such, even with the same values.
  std::vector<int32_t> moved = kColumns;
  if (r == p - 1) moved[1] = 4;  // row 0 stores columns 0 and 4 instead of 0 and 3
  Model same_values(moved);
  try {
    same_values.dp.CheckReplicasAgree("now");
    ADD_FAILURE() << "the check passed although rank " << p - 1 << " holds another pattern";
  } catch (const engine::Error& e) {
    EXPECT_NE(std::string(e.what()).find("fc1.weight (pattern)"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace rigl
