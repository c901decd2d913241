// The training loop (see trainer.h). One iteration consumes one mini-batch and either takes an optimizer step or,
// for RigL on an update step, replaces it with a drop-and-grow update (RIGL.md 3.2: the step counter t then stays
// put). SET and SNFS update after the optimizer step, on the post-increment t. SNIP prunes once on the first batch;
// gradual pruning shrinks storage on its schedule.
#include "rigl/trainer.h"

#include "rigl/trainer_internal.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "engine/autograd/variable.h"
#include "engine/base/check.h"
#include "engine/base/cpu.h"
#include "engine/base/flop_counter.h"
#include "engine/base/memory.h"
#include "engine/base/parallel.h"
#include "engine/base/timer.h"
#include "engine/data/batcher.h"
#include "engine/data/dataset.h"
#include "engine/kernels/blas_core.h"
#include "engine/ops/loss.h"
#include "engine/optim/lr_schedule.h"
#include "engine/optim/sgd.h"
#include "engine/sparse/topology_edit.h"
#include "models/networks.h"
#include "rigl/checkpoint.h"
#include "rigl/drop_schedule.h"
#include "rigl/plan.h"
#include "rigl/progress.h"
#include "rigl/updater.h"

namespace rigl {
namespace internal {


void Trainer::LoadData() {
  data_ = engine::data::LoadFashionMnist(c_.data_dir, /*normalize=*/true);
  auto limit = [](engine::data::Dataset* d, int64_t n) {
    if (n <= 0 || n >= d->num_samples()) return;
    d->labels.resize(n);
    engine::Tensor images({n, d->features()});
    std::copy(d->images.data(), d->images.data() + n * d->features(), images.data());
    d->images = std::move(images);
  };
  limit(&data_.train, c_.train_limit);
  limit(&data_.test, c_.test_limit);
  engine::data::BatcherOptions bo;
  bo.batch_size = c_.batch_size;
  bo.seed = c_.seed;
  bo.shuffle = true;
  bo.layout = net_.channel_major_input ? engine::data::BatchLayout::kChannelMajor
                                       : engine::data::BatchLayout::kFeatureMajor;
  if (c_.augment) {
    bo.augment.crop_padding = 2;
    bo.augment.horizontal_flip = true;
  }
  batcher_ = std::make_unique<Batcher>(data_.train, bo);
  batches_per_epoch_ = batcher_->batches_per_epoch();
  total_epochs_ = std::max<int64_t>(1, static_cast<int64_t>(std::llround(c_.epochs * c_.multiplier)));
  total_iterations_ = total_epochs_ * batches_per_epoch_;
}

void Trainer::BuildModel() {
  plan_ = MakeSparsityPlan(c_);
  net_ = models::BuildNetwork(plan_.network);
  MakeOptimizer();
  for (engine::SparseParameter* p : net_.params.sparse) {
    LayerState s;
    s.param = p;
    const auto it = plan_.target_nnz.find(p->name);
    ENGINE_CHECK(it != plan_.target_nnz.end(), "sparsity plan has no target for ", p->name);
    s.target_nnz = it->second;
    s.target_sparsity = 1.0 - static_cast<double>(s.target_nnz) /
                                  static_cast<double>(p->weight.rows() * p->weight.cols());
    InitHistory(p->weight, &s.history);
    if (c_.method == "snfs") {
      // SNFS keeps a dense EMA of the dense gradient by definition: rows x cols floats per layer, the one method
      // whose memory scales with the dense size. Refuse it past a budget instead of failing deep in an allocation.
      const double ema_bytes = 4.0 * static_cast<double>(p->weight.rows()) * static_cast<double>(p->weight.cols());
      ENGINE_CHECK(ema_bytes <= kSnfsEmaBudgetBytes, "--method=snfs: layer ", p->name, " is ", p->weight.rows(), " x ",
                   p->weight.cols(), ", so its dense-gradient EMA needs ", ema_bytes / (1 << 30), " GiB; expected at "
                   "most ", kSnfsEmaBudgetBytes / (1 << 30), " GiB (SNFS is dense by definition; use --method=rigl, "
                   "whose grow step needs only one tile of the dense gradient)");
      s.ema.assign(p->weight.rows() * p->weight.cols(), 0.0f);
    }
    layers_.push_back(std::move(s));
  }
}

float Trainer::LearningRate() const {
  // Durations in epochs, scaled by the training-length multiplier (RigL_Mx stretches the schedule too).
  engine::LrScheduleOptions o;
  o.base_lr = static_cast<float>(c_.lr);
  o.decay = engine::ParseLrDecay(c_.lr_schedule);
  o.in_epochs = true;
  o.total = static_cast<double>(total_epochs_);
  o.warmup = c_.warmup_epochs * c_.multiplier;
  for (double m : c_.lr_milestones) o.milestones.push_back(m * c_.multiplier);
  o.gamma = static_cast<float>(c_.lr_gamma);
  return engine::LearningRate(o, iteration_, batches_per_epoch_);
}

// One mini-batch: forward, backward, then an optimizer step and/or a topology update.
float Trainer::RunIteration(const Batch& batch, int* correct) {
  const std::string& m = c_.method;
  const bool sparse_updates = m == "rigl" || m == "set" || m == "snfs";
  const bool rigl_update = m == "rigl" && drop_schedule_->IsUpdateStep(t_, last_update_);
  const bool snip_now = m == "snip" && !snip_done_;
  for (LayerState& s : layers_) {
    s.param->want_dense_grad = rigl_update || m == "snfs";
    s.param->skip_pattern_grad = rigl_update;  // the update replaces the optimizer step: no use for it
  }

  opt_->ZeroGrad();
  const uint64_t flops_before = engine::FlopCounter::Get();
  engine::Variable x = engine::Constant(batch.x);
  engine::Variable logits = net_.module->Forward(x);
  engine::Variable loss = engine::SoftmaxCrossEntropy(logits, batch.labels, static_cast<float>(c_.label_smoothing));
  const float loss_value = loss.value()[0];
  CheckFinite(loss_value);
  *correct = engine::CountCorrect(logits.value(), batch.labels);
  engine::Backward(loss);
  if (m == "snfs") UpdateSnfsEma();

  engine::Timer update_timer;
  if (snip_now) {
    SnipPrune();  // no weight update, no step increment (RIGL.md 3.7)
    snip_done_ = true;
    update_seconds_ += update_timer.Seconds();
  } else if (rigl_update) {
    TopologyUpdate(GrowMode::kGradient, t_);  // replaces the optimizer step; t stays
    last_update_ = t_;
    update_seconds_ += update_timer.Seconds();
  } else {
    opt_->Step(LearningRate());
    ++t_;
    update_timer.Reset();
    if (sparse_updates && m != "rigl" && drop_schedule_->IsUpdateStep(t_, last_update_)) {
      TopologyUpdate(m == "set" ? GrowMode::kRandom : GrowMode::kScores, t_);
      last_update_ = t_;
      update_seconds_ += update_timer.Seconds();
    }
    // The schedule's own steps, plus its last step so the final sparsity is reached even when (end - begin) is
    // not a multiple of the frequency.
    if (m == "pruning" && (IsPruningStep(pruning_, t_) || t_ == pruning_.end_step)) {
      GradualPrune(t_);
      update_seconds_ += update_timer.Seconds();
    }
  }
  counted_flops_ += static_cast<double>(engine::FlopCounter::Get() - flops_before);
  const TrainFlops f = TrainingFlopsPerSample(c_, plan_, m == "pruning" ? CurrentSparsities() : std::vector<double>{},
                                              rigl_update);
  theoretical_flops_ += f.method * batch.size();
  theoretical_engine_flops_ += (f.method - f.first_layer_data_grad) * batch.size();
  dense_flops_ += f.dense * batch.size();
  return loss_value;
}

void Trainer::TopologyUpdate(GrowMode mode, int64_t t_eval) {
  ++updates_;
  const float fraction = drop_schedule_->DropFraction(t_eval);
  nlohmann::json layers = nlohmann::json::array();
  for (size_t l = 0; l < layers_.size(); ++l) {
    LayerState& s = layers_[l];
    UpdateOptions o;
    o.mode = mode;
    o.tile_rows = c_.grow_tile_rows;
    o.seed = c_.seed;
    o.salt = (static_cast<uint64_t>(t_eval) << 16) ^ l;
    if (mode == GrowMode::kScores) {
      const int64_t cols = s.param->weight.cols();
      const std::vector<float>* ema = &s.ema;
      o.scores = [ema, cols](int64_t r0, int64_t r1, engine::DenseView out) {
        for (int64_t i = r0; i < r1; ++i) std::copy(ema->data() + i * cols, ema->data() + (i + 1) * cols, out.row(i - r0));
      };
    }
    s.last = UpdateLayer(*s.param, fraction, o, [&](engine::PositionMap& map) { opt_->RemapSparse(*s.param, map); },
                         &s.history);
    s.param->want_dense_grad = false;
  }
  if (progress_) progress_->OnUpdate(t_eval, fraction, layers_.size());
}

void Trainer::UpdateSnfsEma() {
  const float beta = static_cast<float>(c_.snfs_momentum);
  for (LayerState& s : layers_) {
    const int64_t rows = s.param->weight.rows(), cols = s.param->weight.cols();
    const int64_t tile = std::max<int64_t>(1, (int64_t{1} << 20) / std::max<int64_t>(cols, 1));
    engine::Tensor buf({std::min(tile, rows), cols});
    for (int64_t r0 = 0; r0 < rows; r0 += tile) {
      const int64_t r1 = std::min(rows, r0 + tile);
      s.param->dense_grad_rows(r0, r1, {buf.data(), r1 - r0, cols, cols});
      float* ema = s.ema.data() + r0 * cols;
      for (int64_t q = 0; q < (r1 - r0) * cols; ++q) ema[q] = beta * ema[q] + (1.0f - beta) * buf[q];
    }
  }
}

void Trainer::SnipPrune() {
  // Saliency |g * w| on the first batch with every position stored; keep each layer's top target_nnz.
  std::vector<std::vector<int64_t>> drops(layers_.size());
  for (size_t l = 0; l < layers_.size(); ++l) {
    engine::SparseParameter& p = *layers_[l].param;
    drops[l] = SnipDrops(p.grad.data(), p.weight.values().data(), p.weight.nnz(), layers_[l].target_nnz);
  }
  ApplyPrunes(drops);
  for (LayerState& s : layers_) InitHistory(s.param->weight, &s.history);
}

void Trainer::GradualPrune(int64_t t) {
  std::vector<std::vector<int64_t>> drops(layers_.size());
  bool any = false;
  for (size_t l = 0; l < layers_.size(); ++l) {
    engine::SparseParameter& p = *layers_[l].param;
    PruningScheduleConfig schedule = pruning_;
    schedule.final_sparsity = layers_[l].target_sparsity;
    const double st = PruningSparsity(schedule, t);
    const int64_t total = p.weight.rows() * p.weight.cols();
    const int64_t keep = std::max(layers_[l].target_nnz, total - static_cast<int64_t>(std::floor(st * total)));
    if (keep >= p.weight.nnz()) continue;
    drops[l] = LowestMagnitude(p.weight.values().data(), p.weight.nnz(), p.weight.nnz() - keep);
    any = true;
  }
  if (any) ApplyPrunes(drops);
}

void Trainer::ApplyPrunes(const std::vector<std::vector<int64_t>>& drops) {
  ++updates_;
  // Save every optimizer slot by name, prune, rebuild the optimizer, restore (compacting the pruned layers').
  std::vector<engine::NamedBuffer> old_state;
  opt_->CollectState(&old_state);
  std::map<std::string, engine::AlignedVector<float>> saved;
  for (const engine::NamedBuffer& b : old_state) saved[b.name].assign(b.data, b.data + b.size);
  for (size_t l = 0; l < layers_.size(); ++l) {
    if (drops[l].empty()) continue;
    engine::SparseParameter& p = *layers_[l].param;
    engine::PositionMap map;
    engine::TopologyEdit::Prune(p.weight, drops[l], &map, p.name.c_str());
    map.Compact(p.grad);
    for (auto& [name, buffer] : saved) {
      if (name.rfind(p.name + ".", 0) == 0 && buffer.size() == map.old_to_new.size()) map.Compact(buffer);
    }
  }
  MakeOptimizer();
  std::vector<engine::NamedBuffer> new_state;
  opt_->CollectState(&new_state);
  for (engine::NamedBuffer& b : new_state) {
    const engine::AlignedVector<float>& src = saved.at(b.name);
    ENGINE_CHECK(static_cast<int64_t>(src.size()) == b.size, "pruning: optimizer slot ", b.name, " has ", src.size(),
                 " entries after compaction; expected ", b.size);
    std::copy(src.begin(), src.end(), b.data);
  }
}

void Trainer::MakeOptimizer() {
  engine::SgdOptions so;
  so.momentum = static_cast<float>(c_.momentum);
  so.nesterov = c_.nesterov;
  so.weight_decay = static_cast<float>(c_.weight_decay);
  opt_ = std::make_unique<engine::Sgd>(net_.params, so);
}

const LayerState* Trainer::FindLayer(const std::string& name) const {
  for (const LayerState& s : layers_) {
    if (s.param->name == name) return &s;
  }
  return nullptr;
}

std::vector<double> Trainer::CurrentSparsities() const {
  std::vector<double> s = plan_.sparsities;
  for (size_t l = 0; l < plan_.layers.size(); ++l) {
    if (const LayerState* ls = FindLayer(plan_.layers[l].name)) s[l] = 1.0 - ls->param->weight.density();
  }
  return s;
}

double Trainer::StoredDensity(bool maskable_only) const {
  int64_t nnz = 0, total = 0;
  for (const models::LayerSpec& spec : plan_.layers) {
    if (maskable_only && !spec.maskable) continue;
    const LayerState* ls = FindLayer(spec.name);
    nnz += ls != nullptr ? ls->param->weight.nnz() : spec.N();
    total += spec.N();
  }
  return total == 0 ? 1.0 : static_cast<double>(nnz) / static_cast<double>(total);
}

void Trainer::CheckFinite(float loss) {
  if (std::isfinite(loss)) return;
  // Name the first parameter holding a non-finite value; if there is none (the overflow happened in the
  // activations), name the parameter with the largest magnitude instead.
  std::string first, largest;
  double largest_abs = -1;
  auto scan = [&](const std::string& name, const float* v, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      if (!std::isfinite(v[i])) {
        if (first.empty()) first = name;
        return;
      }
      if (std::fabs(v[i]) > largest_abs) {
        largest_abs = std::fabs(v[i]);
        largest = name;
      }
    }
  };
  for (engine::DenseParameter* p : net_.params.dense) scan(p->name, p->var.value().data(), p->var.value().size());
  for (engine::SparseParameter* p : net_.params.sparse) scan(p->name, p->weight.values().data(), p->weight.nnz());
  const std::string culprit =
      !first.empty() ? "first non-finite parameter: " + first
                     : "every parameter is finite; the largest |value| is " + std::to_string(largest_abs) + " in " +
                           largest + " (the overflow happened in the activations)";
  ENGINE_CHECK(false, "training diverged: loss is ", loss, " at step ", t_, " (epoch ", epoch_ + 1, ", batch ",
               batch_index_, "); ", culprit, ". Try a smaller --lr");
}

void Trainer::Evaluate(double* accuracy, double* loss) {
  engine::NoGradGuard no_grad;  // no graph: each batch's activations are freed as soon as they are consumed
  net_.module->SetTraining(false);
  engine::data::BatcherOptions bo;
  // 1000 samples a batch, fewer for very wide layers so an evaluation pass stays O(batch x width) small.
  int64_t widest = 1;
  for (const models::LayerSpec& l : net_.layers) {
    // A conv layer's activation per sample is channels x output plane (WRN: 32 x 28 x 28 floats).
    const int64_t per_sample = l.kind == models::LayerSpec::kDense ? l.out_channels
                                                                    : l.out_channels * l.OutputH() * l.OutputW();
    widest = std::max(widest, per_sample);
  }
  bo.batch_size = std::clamp<int64_t>(kEvalActivationFloats / widest, 1, 1000);
  bo.shuffle = false;
  bo.layout = batcher_->options().layout;
  Batcher eval(data_.test, bo);
  Batch b;
  double correct = 0, loss_sum = 0;
  for (int64_t i = 0; i < eval.batches_per_epoch(); ++i) {
    eval.GetBatch(0, i, &b);
    engine::Variable logits = net_.module->Forward(engine::Constant(b.x));
    loss_sum += engine::SoftmaxCrossEntropy(logits, b.labels, 0.0f).value()[0] * b.size();
    correct += engine::CountCorrect(logits.value(), b.labels);
  }
  net_.module->SetTraining(true);
  *accuracy = correct / data_.test.num_samples();
  *loss = loss_sum / data_.test.num_samples();
}

nlohmann::json Trainer::DensityJson() const {
  nlohmann::json d = nlohmann::json::object();
  for (const LayerState& s : layers_) d[s.param->name] = s.param->weight.density();
  return d;
}

uint64_t Trainer::Fingerprint() const {
  uint64_t h = 0xCBF29CE484222325ull;
  for (const engine::DenseParameter* p : net_.params.dense) h = Fnv1a(h, p->var.value().data(), p->var.value().size() * 4);
  for (const engine::SparseParameter* p : net_.params.sparse) {
    h = Fnv1a(h, p->weight.values().data(), p->weight.nnz() * 4);
    h = Fnv1a(h, p->weight.col_indices().data(), p->weight.nnz() * 4);
  }
  return h;
}

TrainSummary Trainer::Run() {
  engine::ReuseFreedMemory();
  engine::SetNumThreads(c_.threads);
  BuildModel();
  LoadData();
  DropScheduleConfig ds;
  ds.update_interval = c_.delta_t;
  ds.initial_drop_fraction = c_.drop_fraction;
  ds.begin_step = 0;
  ds.end_step = std::max<int64_t>(1, static_cast<int64_t>(c_.t_end * total_iterations_));
  ParseDropDecay(c_.drop_schedule == "inverse_power" ? "exponential_" + std::to_string(c_.drop_power)
                                                     : c_.drop_schedule, &ds);
  if (c_.drop_schedule == "inverse_power") ds.exponent_k = c_.drop_power;
  drop_schedule_ = std::make_unique<DropSchedule>(ds);
  last_update_ = drop_schedule_->InitialLastUpdate();
  pruning_.initial_sparsity = 0.0;
  pruning_.begin_step = static_cast<int64_t>(c_.prune_start * total_iterations_);
  pruning_.end_step = std::max(pruning_.begin_step + 1, static_cast<int64_t>(c_.prune_end * total_iterations_));
  pruning_.frequency = c_.prune_frequency;
  // Nothing is written before every check has passed: a refused resume leaves config.json describing the
  // checkpoint it came with.
  if (!c_.resume.empty()) ResumeFrom(c_.resume);
  if (!c_.out_dir.empty()) {
    WriteFileAtomically(c_.out_dir + "/config.json", ConfigToJson(c_).dump(2) + "\n");
  }

  progress_ = std::make_unique<Progress>(c_.progress, total_iterations_, iteration_);
  char line[512];
  // The sparsity settings mean nothing to a dense run; the opt-in settings are named only when used.
  char sparsity[96] = "";
  if (c_.method != "dense") {
    std::snprintf(sparsity, sizeof(sparsity), ", sparsity %.4g (%s)%s", c_.sparsity, c_.distribution.c_str(),
                  c_.init_fan == "stored" ? ", init over stored fans" : "");
  }
  std::string extras = c_.time_budget > 0 ? ", time budget " + FormatDuration(c_.time_budget) : "";
  if (!c_.resume.empty()) extras += " (resumed at iteration " + std::to_string(iteration_) + ")";
  std::snprintf(line, sizeof(line), "trainer %s: model %s, method %s%s, %lld epochs x %lld batches of %lld, %d threads, "
                "seed %llu%s", kVersion, c_.model.c_str(), c_.method.c_str(), sparsity,
                static_cast<long long>(total_epochs_), static_cast<long long>(batches_per_epoch_),
                static_cast<long long>(c_.batch_size), c_.threads, static_cast<unsigned long long>(c_.seed),
                extras.c_str());
  progress_->Line(line);
  progress_->Line("  machine: " + engine::kernels::DescribeCpu() + "; " + engine::kernels::DescribeBlasCore() +
                  "; sparse kernels " + engine::IsaName(engine::ActiveIsa()));
  for (size_t l = 0; l < plan_.layers.size(); ++l) {
    const models::LayerSpec& spec = plan_.layers[l];
    const LayerState* ls = FindLayer(spec.name);
    const double realised = ls != nullptr ? ls->param->weight.density() : 1.0;
    std::string storage = ls != nullptr ? "csr nnz " + std::to_string(ls->param->weight.nnz()) : "dense";
    if (c_.method == "small_dense") storage = "dense (width x" + std::to_string(plan_.network.width_multiplier) + ")";
    std::snprintf(line, sizeof(line), "  %-28s %-18s requested density %.6f  realised %.6f  %s", spec.name.c_str(),
                  spec.ShapeString().c_str(), 1.0 - plan_.sparsities[l], realised, storage.c_str());
    progress_->Line(line);
  }

  batcher_->Seek({epoch_, batch_index_});
  Batch batch;
  engine::Timer epoch_timer;
  double last_test_acc = std::nan(""), last_test_loss = std::nan("");
  TrainSummary summary;
  summary.start_iteration = iteration_;
  while (iteration_ < total_iterations_) {
    batcher_->Next(&batch);
    epoch_ = batch.epoch;
    batch_index_ = batch.batch_index;
    engine::Timer step_timer;
    int correct = 0;
    const float lr = LearningRate();
    const float loss = RunIteration(batch, &correct);
    train_seconds_ += step_timer.Seconds();
    epoch_loss_sum_ += static_cast<double>(loss) * batch.size();
    epoch_correct_ += correct;
    epoch_samples_ += batch.size();
    ++iteration_;
    ++batch_index_;
    progress_->OnStep(iteration_, epoch_, total_epochs_, loss, lr);
    // --time_budget ends the run like a last epoch: evaluate, record, checkpoint (resumable mid-epoch), summarise.
    const bool budget_hit = c_.time_budget > 0 && train_seconds_ >= c_.time_budget && iteration_ < total_iterations_;
    const bool epoch_end = batch_index_ == batches_per_epoch_;
    if (epoch_end || budget_hit) {
      const bool last = iteration_ == total_iterations_ || budget_hit;
      nlohmann::json m;
      m["epoch"] = epoch_ + 1;
      m["step"] = t_;
      m["iteration"] = iteration_;
      m["train_loss"] = epoch_loss_sum_ / epoch_samples_;
      m["train_accuracy"] = epoch_correct_ / epoch_samples_;
      if (last || (epoch_ + 1) % c_.eval_every == 0) {
        Evaluate(&last_test_acc, &last_test_loss);
        m["test_accuracy"] = last_test_acc;
        m["test_loss"] = last_test_loss;
      }
      m["lr"] = lr;
      m["epoch_seconds"] = epoch_timer.Seconds();
      m["train_seconds"] = train_seconds_;
      m["update_seconds"] = update_seconds_;
      m["updates"] = updates_;
      m["counted_train_flops"] = counted_flops_;
      m["theoretical_train_flops"] = theoretical_flops_;
      m["theoretical_train_flops_engine"] = theoretical_engine_flops_;
      m["dense_train_flops"] = dense_flops_;
      m["density"] = DensityJson();
      m["overall_density"] = StoredDensity(/*maskable_only=*/false);
      if (!layers_.empty() && updates_ > 0) {
        nlohmann::json u = nlohmann::json::object();
        for (const LayerState& s : layers_) {
          u[s.param->name] = {{"dropped", s.last.dropped}, {"grown", s.last.grown},
                              {"mean_abs_dropped", s.last.mean_abs_dropped},
                              {"mean_abs_prev_grown", s.last.mean_abs_prev_grown},
                              {"ever_active_fraction", s.last.ever_active_fraction}};
        }
        m["last_update"] = u;
      }
      m["peak_rss_bytes"] = PeakRssBytes();
      if (!epoch_end) {
        m["partial_epoch"] = true;
        m["epoch_batches"] = batch_index_;
      }
      std::snprintf(line, sizeof(line), "epoch %lld/%lld  loss %.4f  train %.2f%%  test %s  density %.4f  %.2fs  "
                    "FLOPs %.3e counted / %.3e theoretical (%.3fx dense)  updates %lld",
                    static_cast<long long>(epoch_ + 1), static_cast<long long>(total_epochs_),
                    m["train_loss"].get<double>(), 100 * m["train_accuracy"].get<double>(),
                    m.contains("test_accuracy") ? (std::to_string(100 * last_test_acc).substr(0, 5) + "%").c_str()
                                                : "-",
                    m["overall_density"].get<double>(), m["epoch_seconds"].get<double>(), counted_flops_,
                    theoretical_flops_, theoretical_flops_ / std::max(dense_flops_, 1.0),
                    static_cast<long long>(updates_));
      progress_->Line(line);
      if (!layers_.empty() && updates_ > 0 && (c_.method == "rigl" || c_.method == "set" || c_.method == "snfs")) {
        for (const LayerState& s : layers_) {
          std::snprintf(line, sizeof(line), "  %-28s density %.6f  last update: dropped %lld grown %lld  |w| dropped "
                        "%.4g, previously grown %.4g  ever active %.4f", s.param->name.c_str(),
                        s.param->weight.density(), static_cast<long long>(s.last.dropped),
                        static_cast<long long>(s.last.grown), s.last.mean_abs_dropped, s.last.mean_abs_prev_grown,
                        s.last.ever_active_fraction);
          progress_->Line(line);
        }
      }
      summary.final_train_loss = m["train_loss"];
      summary.train_accuracy = m["train_accuracy"];
      if (epoch_end) {
        ++epoch_;
        batch_index_ = 0;
        epoch_loss_sum_ = epoch_correct_ = epoch_samples_ = 0;
      }
      WriteEpochMetrics(m);
      if (!c_.out_dir.empty()) SaveCheckpoint(c_.out_dir + "/checkpoint.bin");
      epoch_timer.Reset();
      if (budget_hit) {
        summary.stopped_by_time_budget = true;
        std::snprintf(line, sizeof(line), "stopped by --time_budget=%gs after %lld of %lld iterations (%.2f epochs), "
                      "%.1f s of training", c_.time_budget, static_cast<long long>(iteration_),
                      static_cast<long long>(total_iterations_),
                      static_cast<double>(iteration_) / static_cast<double>(batches_per_epoch_), train_seconds_);
        progress_->Line(line);
        break;
      }
    } else if (c_.checkpoint_every > 0 && iteration_ % c_.checkpoint_every == 0 && !c_.out_dir.empty()) {
      SaveCheckpoint(c_.out_dir + "/checkpoint.bin");
    }
    if (c_.stop_after_steps > 0 && iteration_ >= c_.stop_after_steps && iteration_ < total_iterations_) {
      SaveCheckpoint(c_.out_dir + "/checkpoint.bin");
      progress_->Line("stopped after " + std::to_string(iteration_) + " iterations (--stop_after_steps); resume with "
                      "--resume=" + c_.out_dir + "/checkpoint.bin");
      break;
    }
  }
  summary.test_accuracy = last_test_acc;
  summary.test_loss = last_test_loss;
  summary.steps = t_;
  summary.iterations = iteration_;
  summary.updates = updates_;
  summary.seconds = train_seconds_;
  summary.update_seconds = update_seconds_;
  summary.counted_train_flops = counted_flops_;
  summary.theoretical_train_flops = theoretical_flops_;
  summary.dense_train_flops = dense_flops_;
  summary.theoretical_train_flops_engine = theoretical_engine_flops_;
  summary.peak_rss_bytes = PeakRssBytes();
  summary.weights_fingerprint = Fingerprint();
  summary.openblas_core = engine::kernels::OpenBlasCoreName();
  summary.openblas_below_best = engine::kernels::BlasCoreBelowBest();
  summary.realised_sparsity = c_.method == "small_dense" ? 0.0 : 1.0 - StoredDensity(/*maskable_only=*/true);
  if (iteration_ == total_iterations_ || summary.stopped_by_time_budget) {
    std::snprintf(line, sizeof(line), "final: test accuracy %.2f%%  test loss %.4f  train loss %.4f  realised sparsity "
                  "%.4f  time %s (topology updates %s)  peak RSS %.1f MiB  weights fingerprint %016llx",
                  100 * summary.test_accuracy, summary.test_loss, summary.final_train_loss, summary.realised_sparsity,
                  FormatDuration(train_seconds_).c_str(), FormatDuration(update_seconds_).c_str(),
                  summary.peak_rss_bytes / 1048576.0, static_cast<unsigned long long>(summary.weights_fingerprint));
    progress_->Line(line);
    std::snprintf(line, sizeof(line), "training FLOPs: theoretical %.4e (%.4fx dense, paper conventions); counted by "
                  "the kernels %.4e = %.3fx the theoretical count without the first layer's data gradient (%.4e), "
                  "which is never computed", theoretical_flops_, theoretical_flops_ / std::max(dense_flops_, 1.0),
                  counted_flops_, counted_flops_ / std::max(theoretical_engine_flops_, 1.0),
                  theoretical_engine_flops_);
    progress_->Line(line);
    if (!c_.out_dir.empty()) {
      nlohmann::json j;
      j["test_accuracy"] = summary.test_accuracy;
      j["test_loss"] = summary.test_loss;
      j["final_train_loss"] = summary.final_train_loss;
      j["train_accuracy"] = summary.train_accuracy;
      j["steps"] = summary.steps;
      j["iterations"] = summary.iterations;
      j["total_iterations"] = total_iterations_;
      j["stopped_by_time_budget"] = summary.stopped_by_time_budget;
      j["updates"] = summary.updates;
      j["train_seconds"] = summary.seconds;
      j["update_seconds"] = summary.update_seconds;
      j["counted_train_flops"] = counted_flops_;
      j["theoretical_train_flops"] = theoretical_flops_;
      j["theoretical_train_flops_engine"] = theoretical_engine_flops_;
      j["dense_train_flops"] = dense_flops_;
      j["theoretical_train_flops_vs_dense"] = theoretical_flops_ / std::max(dense_flops_, 1.0);
      j["realised_sparsity"] = summary.realised_sparsity;
      j["peak_rss_bytes"] = summary.peak_rss_bytes;
      j["weights_fingerprint"] = summary.weights_fingerprint;
      j["machine"] = {{"cpu", engine::kernels::DescribeCpu()},
                      {"openblas_core", summary.openblas_core},
                      {"openblas", engine::kernels::DescribeBlasCore()},
                      {"openblas_below_best", summary.openblas_below_best},
                      {"sparse_kernels", engine::IsaName(engine::ActiveIsa())}};
      j["config"] = ConfigToJson(c_);
      WriteFileAtomically(c_.out_dir + "/summary.json", j.dump(2) + "\n");
      progress_->Line("outputs: " + c_.out_dir + "/ (config.json, metrics.jsonl, metrics.csv, checkpoint.bin, "
                      "summary.json)");
      if (summary.stopped_by_time_budget) {
        progress_->Line("continue with: bazel run //:trainer -- <the same flags> --resume=" + c_.out_dir +
                        "/checkpoint.bin");
      }
    }
  }
  return summary;
}

}  // namespace internal

TrainSummary Train(const TrainConfig& config) { return internal::Trainer(config).Run(); }

void PrintFlopsTable(const TrainConfig& config) { std::fputs(FlopsReport(config).c_str(), stdout); }

int64_t PeakRssBytes() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmHWM:") {
      int64_t kb = 0;
      status >> kb;
      return kb * 1024;
    }
    std::getline(status, key);
  }
  return 0;
}

}  // namespace rigl
