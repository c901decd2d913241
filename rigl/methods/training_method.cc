// The shared part of every training method (see training_method.h): the step driver, drop-and-grow over all layers,
// and pruning with the optimizer's slots carried across.
#include "rigl/methods/training_method.h"

#include <algorithm>
#include <map>
#include <utility>

#include "engine/base/check.h"
#include "engine/sparse/topology_edit.h"

namespace rigl {

DropScheduleConfig DropScheduleFor(const TrainConfig& c, int64_t total_iterations) {
  DropScheduleConfig ds;
  ds.update_interval = c.delta_t;
  ds.initial_drop_fraction = c.drop_fraction;
  ds.begin_step = 0;
  ds.end_step = std::max<int64_t>(1, static_cast<int64_t>(c.t_end * static_cast<double>(total_iterations)));
  if (c.drop_schedule == "inverse_power") {
    ds.decay = DropDecay::kExponentialK;
    ds.exponent_k = c.drop_power;
  } else {
    ParseDropDecay(c.drop_schedule, &ds);
  }
  return ds;
}

void TrainingMethod::Start(int64_t total_iterations) {
  driver_.emplace(DropScheduleFor(config(), total_iterations), info().placement);
}

void TrainingMethod::BeforeForward(const IterationPlan& it) {
  (void)it;
  for (LayerState& s : layers()) {
    s.param->want_dense_grad = false;
    s.param->skip_pattern_grad = false;
  }
}

TopologyChange TrainingMethod::DropAndGrow(GrowMode mode, int64_t t, const std::function<RowTileFn(size_t)>& scores) {
  TopologyChange change;
  change.changed = true;
  change.drop_fraction = drop_schedule().DropFraction(t);
  engine::Optimizer& opt = **context_.optimizer;
  for (size_t l = 0; l < layers().size(); ++l) {
    LayerState& s = layers()[l];
    UpdateOptions o;
    o.mode = mode;
    o.tile_rows = config().grow_tile_rows;
    o.seed = config().seed;
    o.salt = (static_cast<uint64_t>(t) << 16) ^ l;
    if (mode == GrowMode::kScores) o.scores = scores(l);
    s.last = UpdateLayer(*s.param, change.drop_fraction, o,
                         [&](engine::PositionMap& map) { opt.RemapSparse(*s.param, map); }, &s.history);
    s.param->want_dense_grad = false;
  }
  return change;
}

TopologyChange TrainingMethod::ApplyLayerEdits(std::vector<LayerEdit> edits, std::vector<LayerUpdateStats> stats,
                                              float drop_fraction) {
  std::vector<LayerState>& ls = layers();
  std::vector<std::vector<int64_t>> drops(ls.size());
  std::vector<std::vector<engine::GrowCoord>> grows(ls.size());
  for (size_t l = 0; l < ls.size(); ++l) {
    stats[l].dropped = static_cast<int64_t>(edits[l].drop.size());
    stats[l].grown = static_cast<int64_t>(edits[l].grow.size());
    stats[l].mean_abs_dropped = stats[l].dropped ? edits[l].dropped_magnitude_sum / stats[l].dropped : 0.0;
    drops[l] = std::move(edits[l].drop);
    grows[l] = std::move(edits[l].grow);
  }
  TopologyChange change = Resize(drops, grows);
  change.drop_fraction = drop_fraction;
  for (size_t l = 0; l < ls.size(); ++l) {
    engine::SparseParameter& p = *ls[l].param;
    p.dense_grad_rows = nullptr;
    p.want_dense_grad = false;
    RecordGrowth(&ls[l].history, std::move(edits[l].grown_flat));
    FinishLayerUpdate(p.pattern(), &ls[l].history, &stats[l]);
    stats[l].nnz = p.positions();
    ls[l].last = std::move(stats[l]);
  }
  return change;
}

TopologyChange TrainingMethod::Resize(const std::vector<std::vector<int64_t>>& drops,
                                     const std::vector<std::vector<engine::GrowCoord>>& grows) {
  // Save every optimizer slot by name, edit, rebuild the optimizer, restore (compacting and expanding the edited
  // layers').
  std::vector<engine::NamedBuffer> old_state;
  (*context_.optimizer)->CollectState(&old_state);
  std::map<std::string, engine::AlignedVector<float>> saved;
  for (const engine::NamedBuffer& b : old_state) saved[b.name].assign(b.data, b.data + b.size);
  // Carries p's gradient and its saved slots (named "<p>.<slot>", old nnz x width floats) across one edit.
  auto carry = [&](engine::SparseParameter& p, const engine::PositionMap& map, bool grew) {
    const size_t old_size = map.old_to_new.size() * static_cast<size_t>(map.width);
    auto apply = [&](engine::AlignedVector<float>& buffer) { grew ? map.Expand(buffer) : map.Compact(buffer); };
    if (p.grad.size() == old_size) apply(p.grad);
    for (auto& [name, buffer] : saved) {
      if (name.rfind(p.name + ".", 0) == 0 && buffer.size() == old_size) apply(buffer);
    }
  };
  for (size_t l = 0; l < layers().size(); ++l) {
    engine::SparseParameter& p = *layers()[l].param;
    engine::PositionMap map;
    if (!drops[l].empty()) {
      engine::TopologyEdit::Prune(p, drops[l], &map);
      carry(p, map, /*grew=*/false);
    }
    if (l < grows.size() && !grows[l].empty()) {
      engine::TopologyEdit::Grow(p, grows[l], &map);
      carry(p, map, /*grew=*/true);
    }
  }
  context_.make_optimizer();
  std::vector<engine::NamedBuffer> new_state;
  (*context_.optimizer)->CollectState(&new_state);
  for (engine::NamedBuffer& b : new_state) {
    const engine::AlignedVector<float>& src = saved.at(b.name);
    ENGINE_CHECK(static_cast<int64_t>(src.size()) == b.size, "pruning: optimizer slot ", b.name, " has ", src.size(),
                 " entries after compaction; expected ", b.size);
    std::copy(src.begin(), src.end(), b.data);
  }
  TopologyChange change;
  change.changed = true;
  return change;
}

}  // namespace rigl
