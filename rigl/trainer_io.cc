// Trainer checkpoints: everything a run needs to resume bit-exactly, written to a temporary name and renamed, and
// validated piece by piece before a resumed run trusts it. Part of the Trainer in trainer_internal.h.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <system_error>

#include "engine/base/check.h"
#include "engine/sparse/topology_edit.h"
#include "rigl/checkpoint.h"
#include "rigl/trainer_internal.h"

namespace rigl::internal {

void Trainer::SaveCheckpoint(const std::string& path) {
  CheckpointWriter w;
  nlohmann::json& meta = w.meta();
  meta["config"] = ConfigToJson(c_);
  meta["ranks"] = comm_->size();
  const RunTotals& t = totals_;
  meta["t"] = method_->step();
  meta["last_update"] = method_->last_update();
  meta["iteration"] = t.iteration;
  meta["epoch"] = t.epoch;
  meta["batch_index"] = t.batch_index;
  meta["updates"] = t.updates;
  meta["counted_flops"] = t.counted_flops;
  meta["theoretical_flops"] = t.theoretical_flops;
  meta["theoretical_engine_flops"] = t.theoretical_engine_flops;
  meta["dense_flops"] = t.dense_flops;
  meta["train_seconds"] = t.train_seconds;
  meta["update_seconds"] = t.update_seconds;
  meta["epoch_loss_sum"] = t.epoch_loss_sum;
  meta["epoch_correct"] = t.epoch_correct;
  meta["epoch_samples"] = t.epoch_samples;
  meta["imported_steps"] = imported_steps_;
  meta["metrics"] = report_->metrics();
  nlohmann::json shapes = nlohmann::json::object();
  for (engine::DenseParameter* p : net_.params.dense) {
    w.AddFloats(p->name, p->var.value().data(), p->var.value().size());
  }
  for (engine::SparseParameter* p : net_.params.sparse) {
    // A blocked weight saves its block grid's pattern under the same keys and its shape as [rows, cols, R, C].
    const engine::PatternView grid = p->pattern();
    shapes[p->name] = {p->rows(), p->cols()};
    if (p->blocked()) shapes[p->name] = {p->rows(), p->cols(), p->block_rows(), p->block_cols()};
    w.AddInt64s(p->name + ".row_offsets", grid.offsets, grid.rows + 1);
    w.AddInt32s(p->name + ".col_indices", grid.indices, grid.positions);
    w.AddFloats(p->name + ".values", p->values().data(), p->stored());
  }
  meta["sparse_shapes"] = shapes;
  std::vector<std::pair<std::string, engine::Tensor*>> buffers;
  net_.module->CollectBuffers(&buffers);
  for (auto& [name, t] : buffers) w.AddFloats("buffer:" + name, t->data(), t->size());
  std::vector<engine::NamedBuffer> state;
  opt_->CollectState(&state);
  for (const engine::NamedBuffer& b : state) w.AddFloats("optim:" + b.name, b.data, b.size);
  std::vector<std::vector<int64_t>> ever_lists;  // the writer reads them at Write(): alive until then
  ever_lists.reserve(layers_.size());
  for (const LayerState& s : layers_) {
    ever_lists.push_back(s.history.ever_active.Sorted());
    w.AddInt64s("history:" + s.param->name + ".ever_active", ever_lists.back().data(),
                static_cast<int64_t>(ever_lists.back().size()));
    w.AddInt64s("history:" + s.param->name + ".last_grown", s.history.last_grown.data(),
                static_cast<int64_t>(s.history.last_grown.size()));
  }
  method_->Save(&w);
  w.Write(path);
}

namespace {

// A history blob read back from a checkpoint: every flat position inside the layer (rows x cols), strictly
// ascending when `sorted`, at most `max_count` of them. The CRC proves only that the bytes are the ones written,
// so each is checked before UpdateLayer trusts it.
void CheckPositions(const std::string& path, const std::string& entry, const std::vector<int64_t>& positions,
                    int64_t rows, int64_t cols, int64_t max_count, bool sorted) {
  const int64_t size = rows * cols;
  ENGINE_CHECK(static_cast<int64_t>(positions.size()) <= max_count, "--resume=", path, ": entry '", entry, "' has ",
               positions.size(), " positions; expected at most ", max_count);
  for (size_t i = 0; i < positions.size(); ++i) {
    ENGINE_CHECK(positions[i] >= 0 && positions[i] < size, "--resume=", path, ": entry '", entry, "' holds position ",
                 positions[i], " at index ", i, "; expected 0 <= position < rows x cols = ", size);
    ENGINE_CHECK(!sorted || i == 0 || positions[i - 1] < positions[i], "--resume=", path, ": entry '", entry,
                 "' is not strictly ascending at index ", i, " (", positions[i - 1], ", ", positions[i], ")");
  }
}

// A counter from the header, required to lie in [lo, hi].
template <typename T>
T Counter(const std::string& path, const nlohmann::json& meta, const char* key, T lo, T hi) {
  const T v = meta.at(key).get<T>();
  ENGINE_CHECK(v >= lo && v <= hi, "--resume=", path, ": header entry '", key, "' is ", v, "; expected ", lo,
               " <= ", key, " <= ", hi, " for this configuration");
  return v;
}

double NonNegative(const std::string& path, const nlohmann::json& meta, const char* key) {
  const double v = meta.at(key).get<double>();
  ENGINE_CHECK(std::isfinite(v) && v >= 0, "--resume=", path, ": header entry '", key, "' is ", v,
               "; expected a finite number >= 0");
  return v;
}

}  // namespace

void Trainer::ResumeFrom(const std::string& path) {
  std::error_code ec;
  ENGINE_CHECK(std::filesystem::exists(path, ec) || !std::filesystem::exists(path + ".tmp", ec), "--resume=", path,
               ": no checkpoint was committed yet (only ", path, ".tmp exists: a write that was interrupted before ",
               "it completed); expected a committed checkpoint. Start the run afresh (with --overwrite)");
  try {
    RestoreFrom(path);
  } catch (const nlohmann::json::exception& e) {
    ENGINE_CHECK(false, "--resume=", path, ": the checkpoint's header lacks an entry or has one of the wrong type (",
                 e.what(), "); expected a checkpoint written by this trainer");
  }
}

void Trainer::RestoreFrom(const std::string& path) {
  const CheckpointReader r(path);  // verified whole before anything changes
  const nlohmann::json& meta = r.meta();
  // Every setting that shapes the run must match the checkpoint's.
  const nlohmann::json saved = meta.at("config");
  CheckResumeCompatible(path, saved, c_);
  // The counters first: a checkpoint whose position in the run is impossible is refused before anything changes.
  const int64_t epoch = Counter<int64_t>(path, meta, "epoch", 0, shape_.total_epochs);
  const int64_t batch_index = Counter<int64_t>(path, meta, "batch_index", 0, shape_.batches_per_epoch - 1);
  const int64_t iteration = Counter<int64_t>(path, meta, "iteration", 0, shape_.total_iterations);
  ENGINE_CHECK(iteration == epoch * shape_.batches_per_epoch + batch_index, "--resume=", path, ": header says iteration ",
               iteration, " at epoch ", epoch, " batch ", batch_index, "; expected iteration = epoch x ",
               shape_.batches_per_epoch, " + batch");
  const int64_t t = Counter<int64_t>(path, meta, "t", 0, iteration);
  const int64_t last_update = Counter<int64_t>(path, meta, "last_update", method_->drop_schedule().InitialLastUpdate(), t);
  const int64_t updates = Counter<int64_t>(path, meta, "updates", 0, iteration + 1);
  const double epoch_samples =
      Counter<double>(path, meta, "epoch_samples", 0.0, static_cast<double>(shape_.batches_per_epoch * c_.batch_size * positions_per_sample_));
  const double epoch_correct = Counter<double>(path, meta, "epoch_correct", 0.0, epoch_samples);
  ENGINE_CHECK(meta.at("metrics").is_array(), "--resume=", path, ": header entry 'metrics' is not an array");
  if (saved.at("threads") != c_.threads) {
    std::fprintf(stderr, "warning: resuming with --threads=%d; the checkpoint used %s (results stay correct but may "
                         "differ in the last bits from an uninterrupted run)\n", c_.threads,
                 saved.at("threads").dump().c_str());
  }
  // A checkpoint of a data-parallel run holds the same state as a single-process one; only the summation order of
  // the gradients depends on the rank count. Older checkpoints were single-process.
  const int saved_ranks = meta.contains("ranks") ? meta.at("ranks").get<int>() : 1;
  if (saved_ranks != comm_->size() && comm_->root()) {
    std::fprintf(stderr, "warning: resuming on %d rank(s); the checkpoint was written by a run on %d (the run "
                         "continues correctly, but is bit-identical to an uninterrupted run only with the same rank "
                         "count)\n", comm_->size(), saved_ranks);
  }
  for (engine::DenseParameter* p : net_.params.dense) {
    const std::vector<float> v = r.Floats(p->name, p->var.value().size());
    std::copy(v.begin(), v.end(), p->var.value().data());
  }
  for (engine::SparseParameter* p : net_.params.sparse) {
    const auto shape = meta.at("sparse_shapes").at(p->name);
    ENGINE_CHECK(shape.is_array() && (shape.size() == 2 || shape.size() == 4), "--resume=", path, ": ", p->name,
                 "'s shape is ", shape.dump(), "; expected [rows, cols] or [rows, cols, block_rows, block_cols]");
    const int64_t rows = shape.at(0).get<int64_t>(), cols = shape.at(1).get<int64_t>();
    const int64_t br = shape.size() == 4 ? shape.at(2).get<int64_t>() : 1;
    const int64_t bc = shape.size() == 4 ? shape.at(3).get<int64_t>() : 1;
    ENGINE_CHECK(rows == p->rows() && cols == p->cols() && br == p->block_rows() && bc == p->block_cols(),
                 "--resume=", path, ": ", p->name, " is ", rows, " x ", cols, " in ", br, "x", bc,
                 " blocks in the checkpoint; expected ", p->rows(), " x ", p->cols(), " in ", p->block_rows(), "x",
                 p->block_cols(), " blocks");
    const engine::PatternView grid = p->pattern();
    std::vector<int64_t> offsets = r.Int64s(p->name + ".row_offsets", grid.rows + 1);
    std::vector<int32_t> indices = r.Int32s(p->name + ".col_indices");
    std::vector<float> values = r.Floats(p->name + ".values", static_cast<int64_t>(indices.size()) * br * bc);
    // FromParts validates every index; Replace checks the shape and moves the topology version forward.
    if (p->blocked()) {
      engine::BsrMatrix m = engine::BsrMatrix::FromParts(rows, cols, br, bc, std::move(offsets), std::move(indices),
                                                         std::move(values));
      m.CheckPaddingZero(m.values().data(), "--resume=" + path + ": " + p->name, "the values");
      engine::TopologyEdit::Replace(*p, std::move(m));
    } else {
      engine::TopologyEdit::Replace(
          *p, engine::CsrMatrix::FromParts(rows, cols, std::move(offsets), std::move(indices), std::move(values)));
    }
    p->ZeroGrad();
  }
  std::vector<std::pair<std::string, engine::Tensor*>> buffers;
  net_.module->CollectBuffers(&buffers);
  for (auto& [name, tensor] : buffers) {
    const std::vector<float> v = r.Floats("buffer:" + name, tensor->size());
    std::copy(v.begin(), v.end(), tensor->data());
  }
  MakeOptimizer();  // slots sized to the restored nnz
  std::vector<engine::NamedBuffer> state;
  opt_->CollectState(&state);
  for (engine::NamedBuffer& b : state) {
    const std::vector<float> v = r.Floats("optim:" + b.name, b.size);
    std::copy(v.begin(), v.end(), b.data);
  }
  // A blocked weight's slots (momentum, moments) must hold 0 in its padding, as its values do (FromParts checked
  // those): a non-zero slot there would move padding away from 0 at the next step.
  for (const engine::SparseParameter* p : net_.params.sparse) {
    if (!p->blocked()) continue;
    for (const engine::NamedBuffer& b : state) {
      if (b.name.rfind(p->name + ".", 0) == 0 && b.size == p->stored()) {
        p->blocks().CheckPaddingZero(b.data, "--resume=" + path + ": optim:" + b.name, "the slot");
      }
    }
  }
  for (LayerState& s : layers_) {
    const engine::PatternView grid = s.param->pattern();
    const int64_t rows = grid.rows, cols = grid.cols;
    const std::string ever = "history:" + s.param->name + ".ever_active";
    const std::string grown = "history:" + s.param->name + ".last_grown";
    std::vector<int64_t> ever_list = r.Int64s(ever);
    CheckPositions(path, ever, ever_list, rows, cols, rows * cols, /*sorted=*/true);
    s.history.ever_active.Assign(rows * cols, std::move(ever_list), "the checkpoint's ever-active history");
    s.history.last_grown = r.Int64s(grown);
    CheckPositions(path, grown, s.history.last_grown, rows, cols, grid.positions, /*sorted=*/false);
  }
  method_->Restore(r, path);
  method_->RestoreSteps(t, last_update);
  RunTotals& totals = totals_;
  totals.iteration = iteration;
  totals.epoch = epoch;
  totals.batch_index = batch_index;
  totals.updates = updates;
  totals.counted_flops = NonNegative(path, meta, "counted_flops");
  totals.theoretical_flops = NonNegative(path, meta, "theoretical_flops");
  totals.theoretical_engine_flops = NonNegative(path, meta, "theoretical_engine_flops");
  totals.dense_flops = NonNegative(path, meta, "dense_flops");
  totals.train_seconds = NonNegative(path, meta, "train_seconds");
  totals.update_seconds = NonNegative(path, meta, "update_seconds");
  totals.epoch_loss_sum = NonNegative(path, meta, "epoch_loss_sum");
  totals.epoch_correct = epoch_correct;
  totals.epoch_samples = epoch_samples;
  // Checkpoints before --init_from existed lack the key: their weights had no earlier steps.
  imported_steps_ = meta.contains("imported_steps")
                        ? Counter<int64_t>(path, meta, "imported_steps", 0, std::numeric_limits<int64_t>::max() / 2)
                        : 0;
  report_->metrics() = meta.at("metrics").get<std::vector<nlohmann::json>>();
}

}  // namespace rigl::internal
