// Adam: the first step moves each weight by exactly lr (bias correction), three steps against a double-precision
// transcription of the update, and a sparse parameter's slot remapping across an edit (both moments carried, grown
// positions zeroed).
#include "engine/optim/adam.h"

#include <cmath>

#include <gtest/gtest.h>

#include "engine/base/check.h"
#include "engine/sparse/topology_edit.h"
#include "tests/testutil/testutil.h"

namespace engine {
namespace {

std::vector<double> Reference(double w, double wd) {
  double m = 0, v = 0;
  std::vector<double> out;
  for (int t = 1; t <= 3; ++t) {
    const double g = t + wd * w;
    m = 0.9 * m + 0.1 * g;
    v = 0.999 * v + 0.001 * g * g;
    w -= 0.1 * (m / (1 - std::pow(0.9, t))) / (std::sqrt(v / (1 - std::pow(0.999, t))) + 1e-8);
    out.push_back(w);
  }
  return out;
}

std::vector<float> Trajectory(float wd) {
  Tensor init({1});
  init[0] = 1.0f;
  DenseParameter w("w", init);
  Adam adam(ParameterList{{&w}, {}}, AdamOptions{0.9f, 0.999f, 1e-8f, wd});
  std::vector<float> out;
  for (int step = 1; step <= 3; ++step) {
    adam.ZeroGrad();
    w.var.grad()[0] = static_cast<float>(step);
    adam.Step(0.1f);
    out.push_back(w.var.value()[0]);
  }
  EXPECT_EQ(adam.step_count(), 3);
  return out;
}

TEST(AdamTest, FirstStepIsLr) { EXPECT_NEAR(Trajectory(0)[0], 0.9, 1e-6); }

TEST(AdamTest, MatchesDoubleReference) {
  EXPECT_TRUE(testutil::AllClose(Trajectory(0), Reference(1.0, 0), 1e-6));
  EXPECT_TRUE(testutil::AllClose(Trajectory(0.5f), Reference(1.0, 0.5), 1e-6));
}

TEST(AdamTest, SparseRemapKeepsBothMomentsAndZeroesGrown) {
  Rng rng(9);
  SparseParameter w("fc.weight", testutil::RandomCsr(4, 4, 0.5, rng));  // 8 nonzeros
  Adam adam(ParameterList{{}, {&w}}, AdamOptions{});
  for (float& g : w.grad) g = rng.UniformFloat(-1, 1);
  adam.Step(0.01f);
  const CsrMatrix old = w.weight();
  const std::vector<float*> slots = adam.SparseSlots(w);
  ASSERT_EQ(slots.size(), 2u);
  const std::vector<float> m0(slots[0], slots[0] + 8), v0(slots[1], slots[1] + 8);
  GrowCoord grow{0, 0};
  for (int64_t i = 0; i < 4; ++i)
    for (int32_t j = 0; j < 4; ++j)
      if (old.Find(i, j) < 0) grow = {i, j};
  PositionMap map;
  TopologyEdit::Apply(w, {3}, {grow}, &map);
  adam.RemapSparse(w, map);
  for (int64_t p = 0; p < 8; ++p) {
    if (p == 3) continue;
    const int64_t q = map.old_to_new[p];
    EXPECT_TRUE(testutil::BitIdentical(&slots[0][q], &m0[p], 1)) << "m, old position " << p;
    EXPECT_TRUE(testutil::BitIdentical(&slots[1][q], &v0[p], 1)) << "v, old position " << p;
  }
  const int64_t grown = w.weight().Find(grow.row, grow.col);
  EXPECT_EQ(slots[0][grown], 0.0f);
  EXPECT_EQ(slots[1][grown], 0.0f);
  std::vector<NamedBuffer> state;
  adam.CollectState(&state);
  ASSERT_EQ(state.size(), 3u);
  EXPECT_EQ(state[0].name, "adam.step");
  EXPECT_EQ(state[1].name, "fc.weight.adam_m");
  EXPECT_EQ(state[2].name, "fc.weight.adam_v");
}

TEST(AdamTest, BadOptionsThrow) {
  EXPECT_THROW(Adam(ParameterList{}, AdamOptions{1.0f}), Error);
  EXPECT_THROW(Adam(ParameterList{}, AdamOptions{0.9f, 0.999f, 0.0f}), Error);
}

}  // namespace
}  // namespace engine
