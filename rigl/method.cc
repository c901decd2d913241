// The table of training methods (see method.h).
#include "rigl/method.h"

#include "engine/base/check.h"

namespace rigl {

const std::vector<MethodInfo>& AllMethods() {
  using models::CostRule;
  // id, name, summary, sparse storage, starts full, drop-and-grow, update placement, FLOPs rule.
  static const std::vector<MethodInfo> kMethods = {
      {Method::kDense, "dense", "every weight dense, no mask (the baseline)", false, false, false,
       UpdatePlacement::kNoUpdates, CostRule::kDense},
      {Method::kStatic, "static", "a random mask fixed at initialisation", true, false, false,
       UpdatePlacement::kNoUpdates, CostRule::kSparse},
      {Method::kSet, "set", "drop smallest |w|, grow at random (Mocanu et al. 2018)", true, false, true,
       UpdatePlacement::kAfterOptimizerStep, CostRule::kSparse},
      {Method::kSnfs, "snfs", "drop smallest |w|, grow by an EMA of the dense gradient (Dettmers & Zettlemoyer 2019)",
       true, false, true, UpdatePlacement::kAfterOptimizerStep, CostRule::kDenseWeightGradient},
      {Method::kSnip, "snip", "one-shot pruning by |g w| on the first batch (Lee et al. 2019)", true, true, false,
       UpdatePlacement::kNoUpdates, CostRule::kSparse},
      {Method::kPruning, "pruning", "gradual magnitude pruning from dense (Zhu & Gupta 2017)", true, true, false,
       UpdatePlacement::kNoUpdates, CostRule::kTrajectory},
      {Method::kSmallDense, "small_dense", "a dense model narrowed to the sparse model's size", false, false, false,
       UpdatePlacement::kNoUpdates, CostRule::kSparse},
      {Method::kRigl, "rigl", "drop smallest |w|, grow by the dense gradient (Evci et al. 2020)", true, false, true,
       UpdatePlacement::kReplacesOptimizerStep, CostRule::kPeriodicDense},
      {Method::kRiglGlobal, "rigl_global",
       "RigL ranked across all layers at once: per-layer nnz moves, a floor each (--global_floor)", true, false, true,
       UpdatePlacement::kReplacesOptimizerStep, CostRule::kPeriodicDense, /*densities_move=*/true},
      {Method::kMest, "mest",
       "MEST+EM&S (Yuan et al. 2021): grow at random first, drop by |w| + lambda |g| one interval later",
       true, false, true, UpdatePlacement::kAfterOptimizerStep, CostRule::kSparse, /*densities_move=*/true},
  };
  return kMethods;
}

const MethodInfo& Info(Method method) {
  for (const MethodInfo& m : AllMethods()) {
    if (m.id == method) return m;
  }
  ENGINE_CHECK(false, "rigl::Info: method ", static_cast<int>(method), " is not in the method table");
  return AllMethods().front();
}

const char* MethodName(Method method) { return Info(method).name; }

std::string MethodNameList() {
  std::string list;
  for (const MethodInfo& m : AllMethods()) list += (list.empty() ? "" : " | ") + std::string(m.name);
  return list;
}

Method ParseMethod(const std::string& name) {
  for (const MethodInfo& m : AllMethods()) {
    if (name == m.name) return m.id;
  }
  ENGINE_CHECK(false, "--method=", name, ": unknown value; expected one of ", MethodNameList());
  return Method::kDense;
}

}  // namespace rigl
