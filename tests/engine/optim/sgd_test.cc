// SGD: plain, Nesterov and weight-decay updates over 3 steps against numbers computed by hand, sparse parameters
// updating only their nonzeros, and momentum carried across a topology edit.
#include "engine/optim/sgd.h"

#include <gtest/gtest.h>

#include "engine/base/check.h"
#include "engine/sparse/topology_edit.h"
#include "tests/testutil/testutil.h"

namespace engine {
namespace {

// One dense scalar parameter w0 = 1 fed gradients 1, 2, 3; lr = 0.1, momentum 0.9. Hand-computed trajectories:
//   plain:     acc 1, 2.9, 5.61                    w 0.9, 0.61, 0.049
//   Nesterov:  w -= lr (g + 0.9 acc)               w 0.81, 0.349, -0.4559
//   wd = 0.5:  g' = g + 0.5 w: 1.5, 2.425, 3.23625 w 0.85, 0.4725, -0.190875
std::vector<float> Trajectory(SgdOptions options) {
  Tensor init({1});
  init[0] = 1.0f;
  DenseParameter w("w", init);
  Sgd sgd(ParameterList{{&w}, {}}, options);
  std::vector<float> out;
  for (int step = 1; step <= 3; ++step) {
    sgd.ZeroGrad();
    w.var.grad()[0] = static_cast<float>(step);
    sgd.Step(0.1f);
    out.push_back(w.var.value()[0]);
  }
  return out;
}

TEST(SgdTest, PlainMomentumMatchesHand) {
  EXPECT_TRUE(testutil::AllClose(Trajectory({0.9f, false, 0.0f}), {0.9, 0.61, 0.049}, 1e-6));
}

TEST(SgdTest, NesterovMatchesHand) {
  EXPECT_TRUE(testutil::AllClose(Trajectory({0.9f, true, 0.0f}), {0.81, 0.349, -0.4559}, 1e-6));
}

TEST(SgdTest, WeightDecayMatchesHand) {
  EXPECT_TRUE(testutil::AllClose(Trajectory({0.9f, false, 0.5f}), {0.85, 0.4725, -0.190875}, 1e-6));
}

TEST(SgdTest, ExcludeOneDimensionalFromWeightDecay) {
  SgdOptions options{0.0f, false, 0.5f, /*exclude_1d_from_weight_decay=*/true};
  Tensor b_init({1}), w_init({1, 1});
  b_init[0] = w_init[0] = 1.0f;
  DenseParameter b("fc.bias", b_init), w("fc.weight", w_init);
  Sgd sgd(ParameterList{{&b, &w}, {}}, options);
  sgd.ZeroGrad();
  sgd.Step(0.1f);
  EXPECT_FLOAT_EQ(b.var.value()[0], 1.0f);   // no gradient, no decay
  EXPECT_FLOAT_EQ(w.var.value()[0], 0.95f);  // 1 - 0.1 * 0.5 * 1
}

TEST(SgdTest, SparseUpdatesOnlyNonzerosSameRuleAsDense) {
  // A 2 x 3 pattern with 3 nonzeros; each nonzero follows the same scalar trajectory as the dense test.
  CsrMatrix m = CsrMatrix::FromParts(2, 3, {0, 2, 3}, {0, 2, 1}, {1.0f, 1.0f, 1.0f});
  SparseParameter w("fc.weight", std::move(m));
  Sgd sgd(ParameterList{{}, {&w}}, SgdOptions{0.9f, true, 0.5f});
  for (int step = 1; step <= 3; ++step) {
    sgd.ZeroGrad();
    for (float& g : w.grad) g = static_cast<float>(step);
    sgd.Step(0.1f);
  }
  const std::vector<float> dense = Trajectory({0.9f, true, 0.5f});
  for (int64_t p = 0; p < 3; ++p) EXPECT_FLOAT_EQ(w.weight().values()[p], dense[2]) << "position " << p;
  EXPECT_EQ(w.weight().nnz(), 3);
}

TEST(SgdTest, RemapSparseKeepsMomentumBitsAndZeroesGrown) {
  Rng rng(8);
  SparseParameter w("fc.weight", testutil::RandomCsr(6, 5, 0.4, rng));  // 12 nonzeros
  Sgd sgd(ParameterList{{}, {&w}}, SgdOptions{0.9f, false, 0.0f});
  for (int step = 0; step < 2; ++step) {  // two steps so momentum differs from the last gradient
    for (float& g : w.grad) g = rng.UniformFloat(-1, 1);
    sgd.Step(0.1f);
  }
  std::vector<NamedBuffer> state;
  sgd.CollectState(&state);
  ASSERT_EQ(state.size(), 1u);
  EXPECT_EQ(state[0].name, "fc.weight.momentum");
  ASSERT_EQ(state[0].size, 12);
  // Momentum by coordinate before the edit.
  const CsrMatrix old = w.weight();
  const std::vector<float> before(state[0].data, state[0].data + 12);
  // Drop stored positions 1 and 7; grow two coordinates that are not stored.
  std::vector<GrowCoord> grow;
  for (int64_t i = 0; i < 6 && grow.size() < 2; ++i)
    for (int32_t j = 0; j < 5 && grow.size() < 2; ++j)
      if (old.Find(i, j) < 0) grow.push_back({i, j});
  PositionMap map;
  TopologyEdit::Apply(w, {1, 7}, grow, &map);
  sgd.RemapSparse(w, map);
  const float* after = sgd.SparseSlots(w)[0];
  for (int64_t i = 0; i < 6; ++i) {
    for (int64_t p = old.row_offsets()[i]; p < old.row_offsets()[i + 1]; ++p) {
      if (p == 1 || p == 7) continue;
      const int64_t q = w.weight().Find(i, old.col_indices()[p]);
      ASSERT_GE(q, 0) << "kept entry (" << i << ", " << old.col_indices()[p] << ") lost";
      EXPECT_TRUE(testutil::BitIdentical(&after[q], &before[p], 1)) << "old position " << p;
    }
  }
  for (const GrowCoord& g : grow) EXPECT_EQ(after[w.weight().Find(g.row, g.col)], 0.0f);
}

TEST(SgdTest, UnknownParameterAndBadOptionsThrow) {
  SparseParameter w("fc.weight", CsrMatrix(2, 2)), other("other.weight", CsrMatrix(2, 2));
  Sgd sgd(ParameterList{{}, {&w}}, SgdOptions{});
  EXPECT_THROW(sgd.SparseSlots(other), Error);
  EXPECT_THROW(Sgd(ParameterList{}, SgdOptions{-0.1f}), Error);
  EXPECT_THROW(sgd.Step(-1.0f), Error);
}

}  // namespace
}  // namespace engine
