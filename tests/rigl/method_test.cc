// The method table (rigl/method.h) against RIGL.md: each method's name, storage, update placement and FLOPs rule.
#include "rigl/method.h"

#include <set>
#include <string>

#include <gtest/gtest.h>

#include "engine/base/check.h"

namespace {

using models::CostRule;
using rigl::Method;
using rigl::UpdatePlacement;

TEST(MethodTable, NamesRoundTripAndAreUnique) {
  std::set<std::string> names;
  for (const rigl::MethodInfo& m : rigl::AllMethods()) {
    EXPECT_TRUE(names.insert(m.name).second) << m.name;
    EXPECT_EQ(rigl::ParseMethod(m.name), m.id);
    EXPECT_STREQ(rigl::MethodName(m.id), m.name);
  }
  EXPECT_EQ(names, (std::set<std::string>{"dense", "static", "set", "snfs", "snip", "pruning", "small_dense", "rigl",
                                          "rigl_global", "mest"}));
}

TEST(MethodTable, UnknownNameNamesTheFlagAndTheChoices) {
  try {
    rigl::ParseMethod("dsr");
    FAIL() << "dsr accepted";
  } catch (const engine::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("--method=dsr"), std::string::npos) << what;
    EXPECT_NE(what.find("expected one of dense | static"), std::string::npos) << what;
  }
}

// RIGL.md 4.3: Dense 3 f_D; Static, SNIP, SET, Small-Dense 3 f_S; SNFS 2 f_S + f_D; RigL amortised over dT;
// pruning over its trajectory. RIGL.md 3.2: RigL's update replaces the step, SET's and SNFS's follow it.
TEST(MethodTable, MatchesRiglMd) {
  struct Row {
    Method id;
    CostRule cost;
    UpdatePlacement placement;
    bool sparse, starts_full;
  };
  const Row rows[] = {
      {Method::kDense, CostRule::kDense, UpdatePlacement::kNoUpdates, false, false},
      {Method::kStatic, CostRule::kSparse, UpdatePlacement::kNoUpdates, true, false},
      {Method::kSnip, CostRule::kSparse, UpdatePlacement::kNoUpdates, true, true},
      {Method::kSet, CostRule::kSparse, UpdatePlacement::kAfterOptimizerStep, true, false},
      {Method::kSmallDense, CostRule::kSparse, UpdatePlacement::kNoUpdates, false, false},
      {Method::kSnfs, CostRule::kDenseWeightGradient, UpdatePlacement::kAfterOptimizerStep, true, false},
      {Method::kRigl, CostRule::kPeriodicDense, UpdatePlacement::kReplacesOptimizerStep, true, false},
      {Method::kPruning, CostRule::kTrajectory, UpdatePlacement::kNoUpdates, true, true},
      {Method::kRiglGlobal, CostRule::kPeriodicDense, UpdatePlacement::kReplacesOptimizerStep, true, false},
      {Method::kMest, CostRule::kSparse, UpdatePlacement::kAfterOptimizerStep, true, false},
  };
  for (const Row& r : rows) {
    const rigl::MethodInfo& m = rigl::Info(r.id);
    EXPECT_EQ(m.cost, r.cost) << m.name;
    EXPECT_EQ(m.placement, r.placement) << m.name;
    EXPECT_EQ(m.sparse_storage, r.sparse) << m.name;
    EXPECT_EQ(m.starts_full, r.starts_full) << m.name;
    EXPECT_EQ(m.drop_and_grow, r.placement != UpdatePlacement::kNoUpdates) << m.name;
    // The global ranking moves nnz between layers and MEST holds its growth above the budget for an interval, so
    // only their FLOPs follow the current densities.
    EXPECT_EQ(m.densities_move, r.id == Method::kRiglGlobal || r.id == Method::kMest) << m.name;
  }
  EXPECT_EQ(sizeof(rows) / sizeof(rows[0]), rigl::AllMethods().size()) << "a method without a row here";
}

}  // namespace
