// The training loop (see trainer.h). One iteration consumes one mini-batch; the method (rigl/methods/) plans it:
// an optimizer step, a topology update, or both (SET, SNFS and pruning update after the step; a RigL update and
// SNIP's pruning batch replace it, and t stays put). Everything printed or written besides checkpoints is in
// rigl/report.
#include "rigl/trainer.h"

#include "rigl/trainer_internal.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "engine/autograd/variable.h"
#include "engine/base/check.h"
#include "engine/base/flop_counter.h"
#include "engine/base/memory.h"
#include "engine/base/parallel.h"
#include "engine/base/timer.h"
#include "engine/data/batcher.h"
#include "engine/data/dataset.h"
#include "engine/data/text.h"
#include "engine/kernels/blas_core.h"
#include "engine/ops/layer_kernels.h"
#include "engine/ops/loss.h"
#include "engine/optim/adam.h"
#include "engine/optim/clip.h"
#include "engine/optim/lr_schedule.h"
#include "engine/optim/sgd.h"
#include "models/networks.h"
#include "rigl/checkpoint.h"
#include "rigl/methods/registry.h"
#include "rigl/plan.h"
#include "rigl/progress.h"

namespace rigl {
namespace internal {

Trainer::Trainer(const TrainConfig& config, engine::dist::Communicator* comm) : c_(config), comm_(comm) {
  // Only rank 0 writes files (and prints: trainer_mpi_main silences the others' stdout).
  if (!comm_->root()) {
    c_.out_dir.clear();
    c_.export_path.clear();
    c_.progress = "none";
  }
}

void Trainer::LoadData() {
  if (net_.sequence_model) {
    engine::data::TextOptions to;
    to.seq_len = c_.seq_len;
    engine::data::TextSplits text = engine::data::LoadTextSplits("--text_file", c_.text_file, to);
    data_.train = std::move(text.train);
    data_.test = std::move(text.test);
    validation_ = std::move(text.validation);
    positions_per_sample_ = c_.seq_len;
    char line[512];
    std::snprintf(line, sizeof(line), "  data: %s: train %lld bytes (%lld sequences of %lld), validation %lld (%lld), "
                  "test %lld (%lld)", c_.text_file.c_str(), static_cast<long long>(text.train_bytes),
                  static_cast<long long>(data_.train.num_samples()), static_cast<long long>(c_.seq_len + 1),
                  static_cast<long long>(text.validation_bytes), static_cast<long long>(validation_.num_samples()),
                  static_cast<long long>(text.test_bytes), static_cast<long long>(data_.test.num_samples()));
    data_line_ = line;
  } else {
    data_ = engine::data::LoadFashionMnist(c_.data_dir, /*normalize=*/true);
  }
  auto limit = [](engine::data::Dataset* d, int64_t n) {
    if (n <= 0 || n >= d->num_samples()) return;
    d->labels.resize(n);
    engine::Tensor images({n, d->features()});
    std::copy(d->images.data(), d->images.data() + n * d->features(), images.data());
    d->images = std::move(images);
  };
  limit(&data_.train, c_.train_limit);
  limit(&data_.test, c_.test_limit);
  limit(&validation_, c_.test_limit);
  engine::data::BatcherOptions bo;
  bo.batch_size = c_.batch_size;
  bo.seed = c_.seed;
  bo.shuffle = true;
  bo.shard = comm_->rank();
  bo.shards = comm_->size();
  bo.layout = net_.channel_major_input ? engine::data::BatchLayout::kChannelMajor
                                       : engine::data::BatchLayout::kFeatureMajor;
  if (c_.augment) {
    bo.augment.crop_padding = 2;
    bo.augment.horizontal_flip = true;
  }
  if (dp_) {  // each rank loaded its own copy (from its own --data_dir): it must be the same data
    for (const engine::data::Dataset* d : {&data_.train, &validation_, &data_.test}) {
      uint64_t h = engine::Fnv1a(engine::kFnv1aBasis, d->labels.data(), d->labels.size() * sizeof(int32_t));
      h = engine::Fnv1a(h, d->images.data(), static_cast<size_t>(d->images.size()) * sizeof(float));
      dp_->CheckSame("the data set " + d->name + " (" + std::to_string(d->num_samples()) + " samples)", h);
    }
  }
  batcher_ = std::make_unique<Batcher>(data_.train, bo);
  shape_.batches_per_epoch = batcher_->batches_per_epoch();
  shape_.total_epochs = std::max<int64_t>(1, static_cast<int64_t>(std::llround(c_.epochs * c_.multiplier)));
  shape_.total_iterations = shape_.total_epochs * shape_.batches_per_epoch;
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
    const engine::PatternView grid = p->pattern();
    s.target_sparsity = 1.0 - static_cast<double>(s.target_nnz) / static_cast<double>(grid.rows * grid.cols);
    InitHistory(grid, &s.history);
    layers_.push_back(std::move(s));
  }
  method_ = MakeTrainingMethod({&c_, &layers_, &opt_, [this] { MakeOptimizer(); }});
  if (comm_->size() > 1) {
    std::vector<std::pair<std::string, engine::Tensor*>> buffers;
    net_.module->CollectBuffers(&buffers);
    dp_ = std::make_unique<DataParallel>(comm_, net_.params, std::move(buffers));
  }
}

void Trainer::MakeOptimizer() {
  if (c_.optimizer == "adam") {
    engine::AdamOptions ao;
    ao.weight_decay = static_cast<float>(c_.weight_decay);
    ao.exclude_1d_from_weight_decay = !c_.weight_decay_1d;
    opt_ = std::make_unique<engine::Adam>(net_.params, ao);
    return;
  }
  engine::SgdOptions so;
  so.momentum = static_cast<float>(c_.momentum);
  so.nesterov = c_.nesterov;
  so.weight_decay = static_cast<float>(c_.weight_decay);
  so.exclude_1d_from_weight_decay = !c_.weight_decay_1d;
  opt_ = std::make_unique<engine::Sgd>(net_.params, so);
}

float Trainer::LearningRate(int64_t step) const {
  // Durations in epochs, scaled by the training-length multiplier (RigL_Mx stretches the schedule too). The clock
  // is the optimizer's step count (the reference's global step) or, with --lr_clock=batch, the batches consumed.
  engine::LrScheduleOptions o;
  o.base_lr = static_cast<float>(c_.lr);
  o.decay = engine::ParseLrDecay(c_.lr_schedule);
  o.in_epochs = true;
  o.total = static_cast<double>(shape_.total_epochs);
  o.warmup = c_.warmup_epochs * c_.multiplier;
  for (double m : c_.lr_milestones) o.milestones.push_back(m * c_.multiplier);
  o.gamma = static_cast<float>(c_.lr_gamma);
  return engine::LearningRate(o, c_.lr_clock == "batch" ? totals_.iteration : step, shape_.batches_per_epoch);
}

float Trainer::RunIteration(const Batch& batch, int* correct) {
  const IterationPlan it = method_->Plan();
  method_->BeforeForward(it);
  opt_->ZeroGrad();
  const uint64_t flops_before = engine::FlopCounter::Get();
  engine::Variable logits = net_.module->Forward(engine::Constant(batch.x));
  const std::vector<int32_t> labels = Labels(batch);
  engine::Variable loss = engine::SoftmaxCrossEntropy(logits, labels, static_cast<float>(c_.label_smoothing));
  const float loss_value = loss.value()[0];
  CheckFinite(loss_value);
  *correct = engine::CountCorrect(logits.value(), labels);
  engine::Backward(loss);
  // Data-parallel: this shard's gradients become the global batch's (its mean loss is the shards' weighted mean).
  if (dp_) dp_->Reduce(static_cast<double>(batch.size()) / static_cast<double>(batch.global_size), it.optimizer_step);
  method_->AfterBackward(it);
  if (it.optimizer_step && c_.clip_grad_norm > 0) ClipGradients();
  if (it.optimizer_step) opt_->Step(LearningRate(it.step_before));
  if (dp_ && it.optimizer_step) exchange_floats_per_step_ = dp_->last_exchange_floats();
  // A method whose per-layer densities move is charged the densities this iteration's kernels ran at, before its
  // update changes them.
  const MethodInfo& info = method_->info();
  const std::vector<double> ran_at = info.densities_move ? CurrentSparsities() : std::vector<double>{};
  if (it.mask_update) {
    engine::Timer update_timer;
    if (method_->UpdateTopology(it).changed) ++totals_.updates;
    totals_.update_seconds += update_timer.Seconds();
    if (dp_) dp_->CheckReplicasAgree("after the topology update of iteration " + std::to_string(totals_.iteration + 1));
  }
  last_counted_flops_ = static_cast<double>(engine::FlopCounter::Get() - flops_before);
  totals_.counted_flops += last_counted_flops_;
  // RIGL.md 4.3 charges an update that replaces the step 2 f_S + f_D (the dense weight gradient), other steps by the
  // method's rule; gradual pruning by the sparsities after this iteration's update, methods whose densities move by
  // those this iteration ran at.
  const bool dense_gradient_update = it.mask_update && info.placement == UpdatePlacement::kReplacesOptimizerStep;
  const TrainFlops f = TrainingFlopsPerSample(
      c_, plan_,
      info.densities_move ? ran_at
                          : info.cost == models::CostRule::kTrajectory ? CurrentSparsities() : std::vector<double>{},
      dense_gradient_update);
  totals_.theoretical_flops += f.method * batch.global_size;
  totals_.theoretical_engine_flops += (f.method - f.first_layer_data_grad) * batch.global_size;
  totals_.dense_flops += f.dense * batch.global_size;
  return loss_value;
}

std::vector<int32_t> Trainer::Labels(const Batch& batch) const {
  return net_.sequence_model ? engine::data::NextByteTargets(batch.x) : batch.labels;
}

void Trainer::ClipGradients() {
  // Data-parallel, the gradients are already summed: every rank computes the same norm and the same scale.
  const engine::ClipResult r = engine::ClipGradientsByGlobalNorm(net_.params, c_.clip_grad_norm);
  if (r.clipped) ++clipped_steps_;
}

void Trainer::CombineIteration(const Batch& batch, float* loss, int* correct) {
  if (!dp_) return;
  const std::vector<double> mine = {static_cast<double>(*loss) * batch.size(), static_cast<double>(*correct),
                                    last_counted_flops_, totals_.train_seconds};
  const std::vector<double> all = dp_->Gather(mine);
  double loss_sum = 0, correct_sum = 0, flops = 0;
  for (int r = 0; r < comm_->size(); ++r) {
    loss_sum += all[4 * r];
    correct_sum += all[4 * r + 1];
    flops += all[4 * r + 2];
  }
  totals_.counted_flops += flops - last_counted_flops_;  // the kernels of every rank
  *loss = static_cast<float>(loss_sum / static_cast<double>(batch.global_size));
  *correct = static_cast<int>(correct_sum);
  totals_.train_seconds = all[3];  // rank 0's clock
}

std::vector<double> Trainer::CurrentSparsities() const {
  std::vector<double> s = plan_.sparsities;
  for (size_t l = 0; l < plan_.layers.size(); ++l) {
    if (const LayerState* ls = FindLayer(layers_, plan_.layers[l].name)) s[l] = 1.0 - ls->param->density();
  }
  return s;
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
  for (engine::SparseParameter* p : net_.params.sparse) scan(p->name, p->values().data(), p->stored());
  const std::string culprit =
      !first.empty() ? "first non-finite parameter: " + first
                     : "every parameter is finite; the largest |value| is " + std::to_string(largest_abs) + " in " +
                           largest + " (the overflow happened in the activations)";
  ENGINE_CHECK(false, "training diverged: loss is ", loss, " at step ", method_->step(), " (epoch ", totals_.epoch + 1, ", batch ",
               totals_.batch_index, "); ", culprit, ". Try a smaller --lr");
}

void Trainer::Evaluate(const engine::data::Dataset& data, double* accuracy, double* loss) {
  engine::NoGradGuard no_grad;  // no graph: each batch's activations are freed as soon as they are consumed
  net_.module->SetTraining(false);
  engine::data::BatcherOptions bo;
  // 1000 samples a batch, fewer for very wide layers so an evaluation pass stays O(batch x width) small.
  int64_t widest = 1;
  for (const models::LayerSpec& l : net_.layers) {
    // A conv layer's activation per sample is channels x output plane (WRN: 32 x 28 x 28 floats).
    const int64_t per_sample = l.kind == models::LayerSpec::kDense ? l.out_channels * l.time_steps
                                                                    : l.out_channels * l.OutputH() * l.OutputW();
    widest = std::max(widest, per_sample);
  }
  bo.batch_size = std::clamp<int64_t>(kEvalActivationFloats / widest, 1, 1000);
  bo.shuffle = false;
  bo.layout = batcher_->options().layout;
  Batcher eval(data, bo);
  Batch b;
  double correct = 0, loss_sum = 0;
  // Data-parallel: rank r evaluates batches r, r + ranks, ...; the sums are combined in rank order.
  for (int64_t i = comm_->rank(); i < eval.batches_per_epoch(); i += comm_->size()) {
    eval.GetBatch(0, i, &b);
    engine::Variable logits = net_.module->Forward(engine::Constant(b.x));
    const std::vector<int32_t> labels = Labels(b);
    loss_sum += engine::SoftmaxCrossEntropy(logits, labels, 0.0f).value()[0] * b.size();
    correct += engine::CountCorrect(logits.value(), labels);
  }
  net_.module->SetTraining(true);
  if (dp_) {
    const std::vector<double> all = dp_->Gather({correct, loss_sum});
    correct = loss_sum = 0;
    for (int r = 0; r < comm_->size(); ++r) {
      correct += all[2 * r];
      loss_sum += all[2 * r + 1];
    }
  }
  // Every sample holds positions_per_sample_ predictions, and each batch's loss is already their mean.
  *accuracy = correct / static_cast<double>(data.num_samples() * positions_per_sample_);
  *loss = loss_sum / static_cast<double>(data.num_samples());
}

uint64_t Trainer::Fingerprint() const {
  uint64_t h = engine::kFnv1aBasis;
  for (const engine::DenseParameter* p : net_.params.dense) h = engine::Fnv1a(h, p->var.value().data(), p->var.value().size() * 4);
  for (const engine::SparseParameter* p : net_.params.sparse) {
    h = engine::Fnv1a(h, p->values().data(), p->stored() * 4);
    h = engine::Fnv1a(h, p->pattern().indices, p->positions() * 4);
  }
  return h;
}

void Trainer::EvaluateHeldOut() {
  Evaluate(data_.test, &test_accuracy_, &test_loss_);
  if (net_.sequence_model) Evaluate(validation_, &valid_accuracy_, &valid_loss_);
}

void Trainer::CloseEpoch(bool partial, float lr) {
  const bool last = totals_.iteration == shape_.total_iterations || partial;
  const bool evaluated = last || (totals_.epoch + 1) % c_.eval_every == 0;
  if (evaluated) EvaluateHeldOut();
  const double nan = std::nan("");
  const nlohmann::json m = report_->Epoch(totals_, method_->step(), lr, partial, epoch_timer_.Seconds(),
                                          evaluated ? test_accuracy_ : nan, evaluated ? test_loss_ : nan,
                                          evaluated ? valid_accuracy_ : nan, evaluated ? valid_loss_ : nan, plan_,
                                          layers_);
  final_train_loss_ = m["train_loss"];
  final_train_accuracy_ = m["train_accuracy"];
  if (!partial) {
    ++totals_.epoch;
    totals_.batch_index = 0;
    totals_.epoch_loss_sum = totals_.epoch_correct = totals_.epoch_samples = 0;
  }
  if (!c_.out_dir.empty()) SaveCheckpoint(c_.out_dir + "/checkpoint.bin");
  epoch_timer_.Reset();
}

// Which kernels each sparse layer ran (engine/ops/layer_kernels.h): after the first iteration, and again whenever
// a layer switches (pruning's density falls through a break-even).
void Trainer::ReportLayerKernels() {
  std::vector<bool> now;
  for (const LayerState& l : layers_) now.push_back(l.param->ran_dense);
  if (layers_.empty() || now == last_dense_kernels_) return;
  std::string dense;
  for (size_t i = 0; i < layers_.size(); ++i) {
    if (!now[i]) continue;
    char density[32];
    std::snprintf(density, sizeof(density), "%.4f", layers_[i].param->density());
    dense += (dense.empty() ? "" : ", ") + layers_[i].param->name + " (density " + density + ")";
  }
  const int64_t n_sparse = std::count(now.begin(), now.end(), false);
  progress_->Line("  layer kernels (--layer_kernels=" + c_.layer_kernels + ") from iteration " +
                  std::to_string(totals_.iteration + 1) + ": " +
                  (dense.empty() ? "every sparse layer on the sparse kernels"
                                 : "dense kernels for " + dense + "; " + std::to_string(n_sparse) +
                                       " layer(s) on the sparse kernels"));
  last_dense_kernels_ = std::move(now);
}

TrainSummary Trainer::Run() {
  engine::ReuseFreedMemory();
  engine::SetNumThreads(c_.threads);
  engine::SetLayerKernels(engine::LayerKernelsNamed(c_.layer_kernels));
  BuildModel();
  LoadData();
  method_->Start(shape_.total_iterations);
  report_ = std::make_unique<Reporter>(c_, shape_, nullptr);
  // Nothing is written before every check has passed: a refused resume leaves config.json describing the
  // checkpoint it came with.
  if (!c_.resume.empty()) {
    ResumeFrom(c_.resume);
  } else if (!c_.init_from.empty()) {
    InitFrom(c_.init_from);
  }
  if (c_.export_only) {  // no training, nothing else written
    if (comm_->root()) Export();
    return Summarise(/*stopped_by_time_budget=*/false);
  }
  if (!c_.out_dir.empty()) WriteFileAtomically(c_.out_dir + "/config.json", ConfigToJson(c_).dump(2) + "\n");
  progress_ = std::make_unique<Progress>(c_.progress, shape_.total_iterations, totals_.iteration);
  report_->SetProgress(progress_.get());
  report_->Banner(plan_, layers_, totals_.iteration, comm_->size());
  if (!data_line_.empty()) progress_->Line(data_line_);
  if (dp_) dp_->CheckReplicasAgree(c_.resume.empty() ? "at the start" : "after --resume");
  const int64_t start_iteration = totals_.iteration;
  batcher_->Seek({totals_.epoch, totals_.batch_index});
  Batch batch;
  bool budget_hit = false;
  epoch_timer_.Reset();
  while (totals_.iteration < shape_.total_iterations && !budget_hit) {
    batcher_->Next(&batch);
    totals_.epoch = batch.epoch;
    totals_.batch_index = batch.batch_index;
    engine::Timer step_timer;
    int correct = 0;
    const float lr = LearningRate(method_->step());
    float loss = RunIteration(batch, &correct);
    totals_.train_seconds += step_timer.Seconds();
    ReportLayerKernels();
    CombineIteration(batch, &loss, &correct);
    // Counted in predictions (a language model makes seq_len per sample); loss is already their mean.
    const double predictions = static_cast<double>(batch.global_size * positions_per_sample_);
    totals_.epoch_loss_sum += static_cast<double>(loss) * predictions;
    totals_.epoch_correct += correct;
    totals_.epoch_samples += predictions;
    ++totals_.iteration;
    ++totals_.batch_index;
    progress_->OnStep(totals_.iteration, totals_.epoch, shape_.total_epochs, loss, lr);
    // --time_budget ends the run like a last epoch: evaluate, record, checkpoint (resumable mid-epoch), summarise.
    budget_hit = c_.time_budget > 0 && totals_.train_seconds >= c_.time_budget &&
                 totals_.iteration < shape_.total_iterations;
    if (totals_.batch_index == shape_.batches_per_epoch || budget_hit) {
      CloseEpoch(/*partial=*/totals_.batch_index != shape_.batches_per_epoch, lr);
    } else if (c_.checkpoint_every > 0 && totals_.iteration % c_.checkpoint_every == 0 && !c_.out_dir.empty()) {
      SaveCheckpoint(c_.out_dir + "/checkpoint.bin");
    }
    if (c_.stop_after_steps > 0 && totals_.iteration >= c_.stop_after_steps &&
        totals_.iteration < shape_.total_iterations && !budget_hit) {
      if (!c_.out_dir.empty()) SaveCheckpoint(c_.out_dir + "/checkpoint.bin");
      progress_->Line("stopped after " + std::to_string(totals_.iteration) + " iterations (--stop_after_steps); "
                      "resume with --resume=" + c_.out_dir + "/checkpoint.bin");
      break;
    }
  }
  if (budget_hit) {
    char line[256];
    std::snprintf(line, sizeof(line), "stopped by --time_budget=%gs after %lld of %lld iterations (%.2f epochs), "
                  "%.1f s of training", c_.time_budget, static_cast<long long>(totals_.iteration),
                  static_cast<long long>(shape_.total_iterations),
                  static_cast<double>(totals_.iteration) / static_cast<double>(shape_.batches_per_epoch),
                  totals_.train_seconds);
    progress_->Line(line);
  }
  const bool ended = totals_.iteration == shape_.total_iterations || budget_hit;  // not a --stop_after_steps stop
  if (ended && totals_.iteration == start_iteration) {
    // Resumed from the checkpoint the last epoch wrote (the run was stopped before its summary): nothing is left to
    // train. Its last epoch's figures come from the checkpointed metrics, and the final evaluation is redone on the
    // same weights, so the summary is the uninterrupted run's.
    if (!report_->metrics().empty()) {
      final_train_loss_ = report_->metrics().back().value("train_loss", 0.0);
      final_train_accuracy_ = report_->metrics().back().value("train_accuracy", 0.0);
    }
    if (std::isnan(test_accuracy_)) EvaluateHeldOut();
  }
  TrainSummary summary = Summarise(budget_hit);
  summary.start_iteration = start_iteration;
  if (ended && !c_.export_path.empty()) Export();
  if (ended) report_->Final(summary, totals_);
  return summary;
}

TrainSummary Trainer::Summarise(bool stopped_by_time_budget) const {
  TrainSummary s;
  s.test_accuracy = test_accuracy_;
  s.test_loss = test_loss_;
  s.language_model = net_.sequence_model;
  s.valid_accuracy = valid_accuracy_;
  s.valid_loss = valid_loss_;
  s.clipped_steps = clipped_steps_;
  s.final_train_loss = final_train_loss_;
  s.train_accuracy = final_train_accuracy_;
  s.stopped_by_time_budget = stopped_by_time_budget;
  s.steps = method_->step();
  s.iterations = totals_.iteration;
  s.updates = totals_.updates;
  s.seconds = totals_.train_seconds;
  s.update_seconds = totals_.update_seconds;
  s.counted_train_flops = totals_.counted_flops;
  s.theoretical_train_flops = totals_.theoretical_flops;
  s.dense_train_flops = totals_.dense_flops;
  s.theoretical_train_flops_engine = totals_.theoretical_engine_flops;
  s.peak_rss_bytes = engine::PeakRssBytes();
  s.weights_fingerprint = Fingerprint();
  s.openblas_core = engine::kernels::OpenBlasCoreName();
  s.openblas_below_best = engine::kernels::BlasCoreBelowBest();
  s.realised_sparsity =
      c_.method == Method::kSmallDense ? 0.0 : 1.0 - StoredDensity(plan_, layers_, /*maskable_only=*/true);
  for (const LayerState& l : layers_) {
    s.blocked_layers += l.param->blocked() ? 1 : 0;
    if (l.param->ran_dense) s.dense_kernel_layers.push_back(l.param->name);
  }
  s.ranks = comm_->size();
  if (dp_) {
    s.exchange_floats_per_step = exchange_floats_per_step_;
    s.bytes_sent = dp_->bytes_sent();
    s.tile_bytes_sent = dp_->tile_bytes_sent();
    s.exchange_seconds = dp_->exchange_seconds();
    s.tile_exchange_seconds = dp_->tile_seconds();
    s.replica_checks = dp_->replica_checks();
  }
  return s;
}

}  // namespace internal

TrainSummary Train(const TrainConfig& config) {
  engine::dist::SingleProcess one;
  return internal::Trainer(config, &one).Run();
}

TrainSummary Train(const TrainConfig& config, engine::dist::Communicator& comm) {
  return internal::Trainer(config, &comm).Run();
}

void PrintFlopsTable(const TrainConfig& config) { std::fputs(FlopsReport(config).c_str(), stdout); }

}  // namespace rigl
