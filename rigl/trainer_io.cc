// Trainer checkpoints (resume bit-exactly) and the per-epoch metrics files. Part of the Trainer in
// trainer_internal.h; every file is written to a temporary name and renamed.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "engine/base/check.h"
#include "rigl/checkpoint.h"
#include "rigl/trainer_internal.h"

namespace rigl::internal {

void Trainer::WriteEpochMetrics(const nlohmann::json& line) {
  metrics_.push_back(line);
  if (c_.out_dir.empty()) return;
  // Rewrite both files whole, atomically, so an interruption never leaves a torn line.
  std::string jsonl, csv = "epoch,step,train_loss,train_accuracy,test_loss,test_accuracy,lr,epoch_seconds,"
                           "train_seconds,update_seconds,counted_train_flops,theoretical_train_flops,density\n";
  for (const nlohmann::json& m : metrics_) {
    jsonl += m.dump() + "\n";
    char row[512];
    std::snprintf(row, sizeof(row), "%lld,%lld,%.6f,%.6f,%.6f,%.6f,%.6g,%.3f,%.3f,%.3f,%.6e,%.6e,%.6f\n",
                  static_cast<long long>(m["epoch"].get<int64_t>()), static_cast<long long>(m["step"].get<int64_t>()),
                  m["train_loss"].get<double>(), m["train_accuracy"].get<double>(),
                  m.value("test_loss", std::nan("")), m.value("test_accuracy", std::nan("")), m["lr"].get<double>(),
                  m["epoch_seconds"].get<double>(), m["train_seconds"].get<double>(),
                  m["update_seconds"].get<double>(), m["counted_train_flops"].get<double>(),
                  m["theoretical_train_flops"].get<double>(), m["overall_density"].get<double>());
    csv += row;
  }
  WriteFileAtomically(c_.out_dir + "/metrics.jsonl", jsonl);
  WriteFileAtomically(c_.out_dir + "/metrics.csv", csv);
}

void Trainer::SaveCheckpoint(const std::string& path) {
  CheckpointWriter w;
  nlohmann::json& meta = w.meta();
  meta["config"] = ConfigToJson(c_);
  meta["t"] = t_;
  meta["last_update"] = last_update_;
  meta["iteration"] = iteration_;
  meta["epoch"] = epoch_;
  meta["batch_index"] = batch_index_;
  meta["updates"] = updates_;
  meta["snip_done"] = snip_done_;
  meta["counted_flops"] = counted_flops_;
  meta["theoretical_flops"] = theoretical_flops_;
  meta["theoretical_engine_flops"] = theoretical_engine_flops_;
  meta["dense_flops"] = dense_flops_;
  meta["train_seconds"] = train_seconds_;
  meta["update_seconds"] = update_seconds_;
  meta["epoch_loss_sum"] = epoch_loss_sum_;
  meta["epoch_correct"] = epoch_correct_;
  meta["epoch_samples"] = epoch_samples_;
  meta["metrics"] = metrics_;
  nlohmann::json shapes = nlohmann::json::object();
  for (engine::DenseParameter* p : net_.params.dense) {
    w.AddFloats(p->name, p->var.value().data(), p->var.value().size());
  }
  for (engine::SparseParameter* p : net_.params.sparse) {
    shapes[p->name] = {p->weight.rows(), p->weight.cols()};
    w.AddInt64s(p->name + ".row_offsets", p->weight.row_offsets().data(), p->weight.rows() + 1);
    w.AddInt32s(p->name + ".col_indices", p->weight.col_indices().data(), p->weight.nnz());
    w.AddFloats(p->name + ".values", p->weight.values().data(), p->weight.nnz());
  }
  meta["sparse_shapes"] = shapes;
  std::vector<std::pair<std::string, engine::Tensor*>> buffers;
  net_.module->CollectBuffers(&buffers);
  for (auto& [name, t] : buffers) w.AddFloats("buffer:" + name, t->data(), t->size());
  std::vector<engine::NamedBuffer> state;
  opt_->CollectState(&state);
  for (const engine::NamedBuffer& b : state) w.AddFloats("optim:" + b.name, b.data, b.size);
  for (const LayerState& s : layers_) {
    w.AddInt64s("history:" + s.param->name + ".ever_active", s.history.ever_active.data(),
                static_cast<int64_t>(s.history.ever_active.size()));
    w.AddInt64s("history:" + s.param->name + ".last_grown", s.history.last_grown.data(),
                static_cast<int64_t>(s.history.last_grown.size()));
    if (!s.ema.empty()) w.AddFloats("snfs:" + s.param->name, s.ema.data(), static_cast<int64_t>(s.ema.size()));
  }
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
  const nlohmann::json now = ConfigToJson(c_);
  for (const char* key : {"model", "width", "epochs", "batch_size", "lr", "momentum", "nesterov", "weight_decay",
                          "label_smoothing", "lr_schedule", "lr_milestones", "lr_gamma", "warmup_epochs", "method",
                          "sparsity", "distribution", "first_layer_dense", "erk_power_scale", "delta_t",
                          "drop_fraction", "t_end", "drop_schedule", "drop_power", "multiplier", "snfs_momentum",
                          "prune_start", "prune_end", "prune_frequency", "seed", "train_limit", "augment"}) {
    ENGINE_CHECK(saved.at(key) == now.at(key), "--resume=", path, ": --", key, "=", now.at(key).dump(),
                 " but the checkpoint was trained with ", saved.at(key).dump(), "; expected the same value");
  }
  // The counters first: a checkpoint whose position in the run is impossible is refused before anything changes.
  const int64_t epoch = Counter<int64_t>(path, meta, "epoch", 0, total_epochs_);
  const int64_t batch_index = Counter<int64_t>(path, meta, "batch_index", 0, batches_per_epoch_ - 1);
  const int64_t iteration = Counter<int64_t>(path, meta, "iteration", 0, total_iterations_);
  ENGINE_CHECK(iteration == epoch * batches_per_epoch_ + batch_index, "--resume=", path, ": header says iteration ",
               iteration, " at epoch ", epoch, " batch ", batch_index, "; expected iteration = epoch x ",
               batches_per_epoch_, " + batch");
  const int64_t t = Counter<int64_t>(path, meta, "t", 0, iteration);
  const int64_t last_update = Counter<int64_t>(path, meta, "last_update", drop_schedule_->InitialLastUpdate(), t);
  const int64_t updates = Counter<int64_t>(path, meta, "updates", 0, iteration + 1);
  const double epoch_samples =
      Counter<double>(path, meta, "epoch_samples", 0.0, static_cast<double>(batches_per_epoch_ * c_.batch_size));
  const double epoch_correct = Counter<double>(path, meta, "epoch_correct", 0.0, epoch_samples);
  ENGINE_CHECK(meta.at("metrics").is_array(), "--resume=", path, ": header entry 'metrics' is not an array");
  if (saved.at("threads") != now.at("threads")) {
    std::fprintf(stderr, "warning: resuming with --threads=%d; the checkpoint used %s (results stay correct but may "
                         "differ in the last bits from an uninterrupted run)\n", c_.threads,
                 saved.at("threads").dump().c_str());
  }
  for (engine::DenseParameter* p : net_.params.dense) {
    const std::vector<float> v = r.Floats(p->name, p->var.value().size());
    std::copy(v.begin(), v.end(), p->var.value().data());
  }
  for (engine::SparseParameter* p : net_.params.sparse) {
    const auto shape = meta.at("sparse_shapes").at(p->name);
    const int64_t rows = shape.at(0).get<int64_t>(), cols = shape.at(1).get<int64_t>();
    ENGINE_CHECK(rows == p->weight.rows() && cols == p->weight.cols(), "--resume=", path, ": ", p->name, " is ", rows,
                 " x ", cols, " in the checkpoint; expected ", p->weight.rows(), " x ", p->weight.cols());
    std::vector<int64_t> offsets = r.Int64s(p->name + ".row_offsets", rows + 1);
    std::vector<int32_t> indices = r.Int32s(p->name + ".col_indices");
    std::vector<float> values = r.Floats(p->name + ".values", static_cast<int64_t>(indices.size()));
    p->weight = engine::CsrMatrix::FromParts(rows, cols, std::move(offsets), std::move(indices), std::move(values));
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
  for (LayerState& s : layers_) {
    const int64_t rows = s.param->weight.rows(), cols = s.param->weight.cols();
    const std::string ever = "history:" + s.param->name + ".ever_active";
    const std::string grown = "history:" + s.param->name + ".last_grown";
    s.history.ever_active = r.Int64s(ever);
    CheckPositions(path, ever, s.history.ever_active, rows, cols, rows * cols, /*sorted=*/true);
    s.history.last_grown = r.Int64s(grown);
    CheckPositions(path, grown, s.history.last_grown, rows, cols, s.param->weight.nnz(), /*sorted=*/false);
    if (!s.ema.empty()) {
      const std::vector<float> v = r.Floats("snfs:" + s.param->name, static_cast<int64_t>(s.ema.size()));
      s.ema = v;
    }
  }
  t_ = t;
  last_update_ = last_update;
  iteration_ = iteration;
  epoch_ = epoch;
  batch_index_ = batch_index;
  updates_ = updates;
  snip_done_ = meta.at("snip_done").get<bool>();
  counted_flops_ = NonNegative(path, meta, "counted_flops");
  theoretical_flops_ = NonNegative(path, meta, "theoretical_flops");
  theoretical_engine_flops_ = NonNegative(path, meta, "theoretical_engine_flops");
  dense_flops_ = NonNegative(path, meta, "dense_flops");
  train_seconds_ = NonNegative(path, meta, "train_seconds");
  update_seconds_ = NonNegative(path, meta, "update_seconds");
  epoch_loss_sum_ = NonNegative(path, meta, "epoch_loss_sum");
  epoch_correct_ = epoch_correct;
  epoch_samples_ = epoch_samples;
  metrics_ = meta.at("metrics").get<std::vector<nlohmann::json>>();
}

}  // namespace rigl::internal
