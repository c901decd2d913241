// Console lines, metrics files and summary.json of a training run (see report.h).
#include "rigl/report.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>

#include "engine/base/cpu.h"
#include "engine/base/memory.h"
#include "engine/kernels/blas_core.h"
#include "rigl/checkpoint.h"

namespace rigl::internal {
namespace {

constexpr double kLn2 = 0.69314718055994530942;  // nats per bit: bits per character = loss / ln 2

std::string Format(const char* format, ...) __attribute__((format(printf, 1, 2)));
std::string Format(const char* format, ...) {
  char line[768];
  va_list args;
  va_start(args, format);
  std::vsnprintf(line, sizeof(line), format, args);
  va_end(args);
  return line;
}

}  // namespace

const LayerState* FindLayer(const std::vector<LayerState>& layers, const std::string& name) {
  for (const LayerState& s : layers) {
    if (s.param->name == name) return &s;
  }
  return nullptr;
}

double StoredDensity(const SparsityPlan& plan, const std::vector<LayerState>& layers, bool maskable_only) {
  int64_t nnz = 0, total = 0;
  for (const models::LayerSpec& spec : plan.layers) {
    if (maskable_only && !spec.maskable) continue;
    const LayerState* ls = FindLayer(layers, spec.name);
    nnz += ls != nullptr ? ls->param->entries() : spec.N();
    total += spec.N();
  }
  return total == 0 ? 1.0 : static_cast<double>(nnz) / static_cast<double>(total);
}

void Reporter::Banner(const SparsityPlan& plan, const std::vector<LayerState>& layers, int64_t start_iteration,
                      int ranks) {
  // The sparsity settings mean nothing to a dense run; the opt-in settings are named only when used.
  std::string sparsity;
  if (c_.method != Method::kDense) {
    sparsity = Format(", sparsity %.4g (%s)%s%s", c_.sparsity, c_.distribution.c_str(),
                      c_.block == "1x1" ? "" : (" in " + c_.block + " blocks").c_str(),
                      c_.init_fan == "stored" ? ", init over stored fans" : "");
  }
  std::string extras = c_.time_budget > 0 ? ", time budget " + FormatDuration(c_.time_budget) : "";
  if (!c_.resume.empty()) extras += " (resumed at iteration " + std::to_string(start_iteration) + ")";
  const std::string threads = ranks == 1 ? Format("%d threads", c_.threads)
                                         : Format("data-parallel over %d ranks x %d threads (each rank trains %lld-%lld "
                                                  "samples of every global batch)",
                                                  ranks, c_.threads, static_cast<long long>(c_.batch_size / ranks),
                                                  static_cast<long long>((c_.batch_size + ranks - 1) / ranks));
  progress_->Line(Format("trainer %s: model %s, method %s%s, %lld epochs x %lld batches of %lld, %s, seed "
                         "%llu%s", kVersion, c_.model.c_str(), MethodName(c_.method), sparsity.c_str(),
                         static_cast<long long>(shape_.total_epochs), static_cast<long long>(shape_.batches_per_epoch),
                         static_cast<long long>(c_.batch_size), threads.c_str(),
                         static_cast<unsigned long long>(c_.seed), extras.c_str()));
  progress_->Line("  machine: " + engine::kernels::DescribeCpu() + "; " + engine::kernels::DescribeBlasCore() +
                  "; sparse kernels " + engine::IsaName(engine::ActiveIsa()));
  for (size_t l = 0; l < plan.layers.size(); ++l) {
    const models::LayerSpec& spec = plan.layers[l];
    const LayerState* ls = FindLayer(layers, spec.name);
    const double realised = ls != nullptr ? ls->param->density() : 1.0;
    std::string storage = "dense";
    if (ls != nullptr && ls->param->blocked()) {
      storage = "bsr " + std::to_string(ls->param->block_rows()) + "x" + std::to_string(ls->param->block_cols()) +
                " blocks " + std::to_string(ls->param->positions()) + " (" + std::to_string(ls->param->entries()) +
                " weights)";
    } else if (ls != nullptr) {
      storage = "csr nnz " + std::to_string(ls->param->entries());
    }
    if (c_.method == Method::kSmallDense) {
      storage = "dense (width x" + std::to_string(plan.network.width_multiplier) + ")";
    }
    progress_->Line(Format("  %-28s %-18s requested density %.6f  realised %.6f  %s", spec.name.c_str(),
                           spec.ShapeString().c_str(), 1.0 - plan.sparsities[l], realised, storage.c_str()));
  }
}

nlohmann::json Reporter::Epoch(const RunTotals& t, int64_t step, float lr, bool partial, double epoch_seconds,
                               double test_accuracy, double test_loss, double valid_accuracy, double valid_loss,
                               const SparsityPlan& plan, const std::vector<LayerState>& layers) {
  nlohmann::json m;
  m["epoch"] = t.epoch + 1;
  m["step"] = step;
  m["iteration"] = t.iteration;
  m["train_loss"] = t.epoch_loss_sum / t.epoch_samples;
  m["train_accuracy"] = t.epoch_correct / t.epoch_samples;
  const bool evaluated = !std::isnan(test_accuracy);
  if (evaluated) {
    m["test_accuracy"] = test_accuracy;
    m["test_loss"] = test_loss;
  }
  const bool lm = c_.IsLanguageModel();
  if (lm) {
    m["train_bpc"] = m["train_loss"].get<double>() / kLn2;
    if (evaluated) m["test_bpc"] = test_loss / kLn2;
    if (!std::isnan(valid_loss)) {
      m["valid_accuracy"] = valid_accuracy;
      m["valid_loss"] = valid_loss;
      m["valid_bpc"] = valid_loss / kLn2;
    }
  }
  m["lr"] = lr;
  m["epoch_seconds"] = epoch_seconds;
  m["train_seconds"] = t.train_seconds;
  m["update_seconds"] = t.update_seconds;
  m["updates"] = t.updates;
  m["counted_train_flops"] = t.counted_flops;
  m["theoretical_train_flops"] = t.theoretical_flops;
  m["theoretical_train_flops_engine"] = t.theoretical_engine_flops;
  m["dense_train_flops"] = t.dense_flops;
  nlohmann::json density = nlohmann::json::object();
  for (const LayerState& s : layers) density[s.param->name] = s.param->density();
  m["density"] = density;
  m["overall_density"] = StoredDensity(plan, layers, /*maskable_only=*/false);
  if (!layers.empty() && t.updates > 0) {
    nlohmann::json u = nlohmann::json::object();
    for (const LayerState& s : layers) {
      u[s.param->name] = {{"dropped", s.last.dropped}, {"grown", s.last.grown},
                          {"mean_abs_dropped", s.last.mean_abs_dropped},
                          {"mean_abs_prev_grown", s.last.mean_abs_prev_grown},
                          {"ever_active_fraction", s.last.ever_active_fraction}};
    }
    m["last_update"] = u;
  }
  m["peak_rss_bytes"] = engine::PeakRssBytes();
  if (partial) {
    m["partial_epoch"] = true;
    m["epoch_batches"] = t.batch_index;
  }
  if (lm) {
    progress_->Line(Format("epoch %lld/%lld  train %.4f bpc  validation %s  test %s  density %.4f  %.2fs  FLOPs %.3e "
                           "counted / %.3e theoretical (%.3fx dense)  updates %lld",
                           static_cast<long long>(t.epoch + 1), static_cast<long long>(shape_.total_epochs),
                           m["train_bpc"].get<double>(),
                           m.contains("valid_bpc") ? Format("%.4f bpc", m["valid_bpc"].get<double>()).c_str() : "-",
                           evaluated ? Format("%.4f bpc", test_loss / kLn2).c_str() : "-",
                           m["overall_density"].get<double>(), epoch_seconds, t.counted_flops, t.theoretical_flops,
                           t.theoretical_flops / std::max(t.dense_flops, 1.0), static_cast<long long>(t.updates)));
  } else {
  progress_->Line(Format("epoch %lld/%lld  loss %.4f  train %.2f%%  test %s  density %.4f  %.2fs  FLOPs %.3e counted / "
                         "%.3e theoretical (%.3fx dense)  updates %lld",
                         static_cast<long long>(t.epoch + 1), static_cast<long long>(shape_.total_epochs),
                         m["train_loss"].get<double>(), 100 * m["train_accuracy"].get<double>(),
                         evaluated ? (std::to_string(100 * test_accuracy).substr(0, 5) + "%").c_str() : "-",
                         m["overall_density"].get<double>(), epoch_seconds, t.counted_flops, t.theoretical_flops,
                         t.theoretical_flops / std::max(t.dense_flops, 1.0), static_cast<long long>(t.updates)));
  }
  if (!layers.empty() && t.updates > 0 && Info(c_.method).drop_and_grow) {
    for (const LayerState& s : layers) {
      // A blocked layer counts blocks and reports their Frobenius norms.
      progress_->Line(Format("  %-28s density %.6f  last update: dropped %lld grown %lld%s  %s dropped %.4g, "
                             "previously grown %.4g  ever active %.4f",
                             s.param->name.c_str(), s.param->density(), static_cast<long long>(s.last.dropped),
                             static_cast<long long>(s.last.grown), s.param->blocked() ? " blocks" : "",
                             s.param->blocked() ? "|block|" : "|w|",
                             s.last.mean_abs_dropped,
                             s.last.mean_abs_prev_grown, s.last.ever_active_fraction));
    }
  }
  metrics_.push_back(m);
  WriteMetricsFiles();
  return m;
}

void Reporter::WriteMetricsFiles() const {
  if (c_.out_dir.empty()) return;
  // Rewrite both files whole, atomically, so an interruption never leaves a torn line.
  std::string jsonl, csv = "epoch,step,train_loss,train_accuracy,test_loss,test_accuracy,lr,epoch_seconds,"
                           "train_seconds,update_seconds,counted_train_flops,theoretical_train_flops,density\n";
  for (const nlohmann::json& m : metrics_) {
    jsonl += m.dump() + "\n";
    csv += Format("%lld,%lld,%.6f,%.6f,%.6f,%.6f,%.6g,%.3f,%.3f,%.3f,%.6e,%.6e,%.6f\n",
                  static_cast<long long>(m["epoch"].get<int64_t>()), static_cast<long long>(m["step"].get<int64_t>()),
                  m["train_loss"].get<double>(), m["train_accuracy"].get<double>(),
                  m.value("test_loss", std::nan("")), m.value("test_accuracy", std::nan("")), m["lr"].get<double>(),
                  m["epoch_seconds"].get<double>(), m["train_seconds"].get<double>(),
                  m["update_seconds"].get<double>(), m["counted_train_flops"].get<double>(),
                  m["theoretical_train_flops"].get<double>(), m["overall_density"].get<double>());
  }
  WriteFileAtomically(c_.out_dir + "/metrics.jsonl", jsonl);
  WriteFileAtomically(c_.out_dir + "/metrics.csv", csv);
}

void Reporter::Final(const TrainSummary& s, const RunTotals& t) {
  if (s.language_model) {
    progress_->Line(Format("final: test %.4f bits per character (next-byte accuracy %.2f%%)  validation %.4f bpc  "
                           "train %.4f bpc  clipped steps %lld",
                           s.test_loss / kLn2, 100 * s.test_accuracy, s.valid_loss / kLn2, s.final_train_loss / kLn2,
                           static_cast<long long>(s.clipped_steps)));
  }
  progress_->Line(Format("final: test accuracy %.2f%%  test loss %.4f  train loss %.4f  realised sparsity %.4f  time %s "
                         "(topology updates %s)  peak RSS %.1f MiB  weights fingerprint %016llx",
                         100 * s.test_accuracy, s.test_loss, s.final_train_loss, s.realised_sparsity,
                         FormatDuration(t.train_seconds).c_str(), FormatDuration(t.update_seconds).c_str(),
                         s.peak_rss_bytes / 1048576.0, static_cast<unsigned long long>(s.weights_fingerprint)));
  progress_->Line(Format("training FLOPs: theoretical %.4e (%.4fx dense, paper conventions); counted by the kernels "
                         "%.4e = %.3fx the theoretical count without the first layer's data gradient (%.4e), which is "
                         "never computed",
                         t.theoretical_flops, t.theoretical_flops / std::max(t.dense_flops, 1.0), t.counted_flops,
                         t.counted_flops / std::max(t.theoretical_engine_flops, 1.0), t.theoretical_engine_flops));
  if (s.ranks > 1) {
    progress_->Line(Format("data-parallel: %d ranks; per optimizer step each rank exchanges %lld floats (%.3f MiB: "
                           "stored gradients, dense parameters' gradients, buffers; no index); rank 0 sent %.1f MiB "
                           "in all, %.1f MiB of it dense-gradient tiles at topology updates; exchange time %s per-step "
                           "+ %s tiles (%.1f%% of training); %lld replica checks passed (every layer's pattern and values the same "
                           "on every rank, at the start and after every topology update)",
                           s.ranks, static_cast<long long>(s.exchange_floats_per_step),
                           4.0 * s.exchange_floats_per_step / 1048576.0, s.bytes_sent / 1048576.0,
                           s.tile_bytes_sent / 1048576.0, FormatDuration(s.exchange_seconds).c_str(),
                           FormatDuration(s.tile_exchange_seconds).c_str(),
                           100.0 * (s.exchange_seconds + s.tile_exchange_seconds) / std::max(t.train_seconds, 1e-9),
                           static_cast<long long>(s.replica_checks)));
  }
  if (c_.out_dir.empty()) return;
  nlohmann::json j;
  j["test_accuracy"] = s.test_accuracy;
  j["test_loss"] = s.test_loss;
  j["final_train_loss"] = s.final_train_loss;
  if (s.language_model) {
    j["test_bpc"] = s.test_loss / kLn2;
    j["valid_loss"] = s.valid_loss;
    j["valid_accuracy"] = s.valid_accuracy;
    j["valid_bpc"] = s.valid_loss / kLn2;
    j["train_bpc"] = s.final_train_loss / kLn2;
    j["clipped_steps"] = s.clipped_steps;
  }
  j["train_accuracy"] = s.train_accuracy;
  j["steps"] = s.steps;
  j["iterations"] = s.iterations;
  j["total_iterations"] = shape_.total_iterations;
  j["stopped_by_time_budget"] = s.stopped_by_time_budget;
  j["updates"] = s.updates;
  j["train_seconds"] = s.seconds;
  j["update_seconds"] = s.update_seconds;
  j["counted_train_flops"] = t.counted_flops;
  j["theoretical_train_flops"] = t.theoretical_flops;
  j["theoretical_train_flops_engine"] = t.theoretical_engine_flops;
  j["dense_train_flops"] = t.dense_flops;
  j["theoretical_train_flops_vs_dense"] = t.theoretical_flops / std::max(t.dense_flops, 1.0);
  j["realised_sparsity"] = s.realised_sparsity;
  j["peak_rss_bytes"] = s.peak_rss_bytes;
  j["weights_fingerprint"] = s.weights_fingerprint;
  j["dense_kernel_layers"] = s.dense_kernel_layers;
  j["machine"] = {{"cpu", engine::kernels::DescribeCpu()},
                  {"openblas_core", s.openblas_core},
                  {"openblas", engine::kernels::DescribeBlasCore()},
                  {"openblas_below_best", s.openblas_below_best},
                  {"sparse_kernels", engine::IsaName(engine::ActiveIsa())}};
  j["ranks"] = s.ranks;
  if (s.ranks > 1) {
    j["data_parallel"] = {{"exchange_floats_per_step", s.exchange_floats_per_step},
                          {"bytes_sent_rank0", s.bytes_sent},
                          {"tile_bytes_sent_rank0", s.tile_bytes_sent},
                          {"exchange_seconds_rank0", s.exchange_seconds},
                          {"tile_exchange_seconds_rank0", s.tile_exchange_seconds},
                          {"replica_checks", s.replica_checks}};
  }
  j["config"] = ConfigToJson(c_);
  WriteFileAtomically(c_.out_dir + "/summary.json", j.dump(2) + "\n");
  progress_->Line("outputs: " + c_.out_dir + "/ (config.json, metrics.jsonl, metrics.csv, checkpoint.bin, "
                  "summary.json)");
  if (s.stopped_by_time_budget) {
    progress_->Line("continue with: bazel run //:trainer -- <the same flags> --resume=" + c_.out_dir +
                    "/checkpoint.bin");
  }
}

}  // namespace rigl::internal
