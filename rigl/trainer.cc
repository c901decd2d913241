// The training loop (see trainer.h). One iteration consumes one mini-batch and either takes an optimizer step or,
// for RigL on an update step, replaces it with a drop-and-grow update (RIGL.md 3.2: the step counter t then stays
// put). SET and SNFS update after the optimizer step, on the post-increment t. SNIP prunes once on the first batch;
// gradual pruning shrinks storage on its schedule.
#include "rigl/trainer.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "engine/autograd/variable.h"
#include "engine/base/check.h"
#include "engine/base/flop_counter.h"
#include "engine/base/parallel.h"
#include "engine/base/timer.h"
#include "engine/data/batcher.h"
#include "engine/data/dataset.h"
#include "engine/ops/loss.h"
#include "engine/optim/lr_schedule.h"
#include "engine/optim/sgd.h"
#include "models/networks.h"
#include "rigl/checkpoint.h"
#include "rigl/drop_schedule.h"
#include "rigl/plan.h"
#include "rigl/progress.h"
#include "rigl/pruning.h"
#include "rigl/updater.h"

namespace rigl {
namespace {

using engine::data::Batch;
using engine::data::Batcher;

// Per sparse layer state beyond the parameter itself.
struct LayerState {
  engine::SparseParameter* param = nullptr;
  int64_t target_nnz = 0;   // the distribution's nnz (final nnz for SNIP/pruning)
  double target_sparsity = 0;
  LayerHistory history;
  std::vector<float> ema;   // SNFS: dense-gradient EMA (rows x cols), the method's inherent dense cost
  LayerUpdateStats last;
};

uint64_t Fnv1a(uint64_t h, const void* data, size_t bytes) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < bytes; ++i) {
    h ^= p[i];
    h *= 0x100000001B3ull;
  }
  return h;
}

class Trainer {
 public:
  explicit Trainer(const TrainConfig& config) : c_(config) {}
  TrainSummary Run();

 private:
  void LoadData();
  void BuildModel();
  void ResumeFrom(const std::string& path);
  void SaveCheckpoint(const std::string& path);
  float RunIteration(const Batch& batch, int* correct);
  void TopologyUpdate(GrowMode mode, int64_t t_eval);
  void SnipPrune();
  void GradualPrune(int64_t t);
  void UpdateSnfsEma();
  void Evaluate(double* accuracy, double* loss);
  void CheckFinite(float loss);
  void WriteEpochMetrics(const nlohmann::json& line);
  nlohmann::json DensityJson() const;
  uint64_t Fingerprint() const;
  float LearningRate() const;

  TrainConfig c_;
  engine::data::TrainTestSplit data_;
  std::unique_ptr<Batcher> batcher_;
  models::Network net_;
  std::unique_ptr<engine::Sgd> opt_;
  std::vector<LayerState> layers_;
  SparsityPlan plan_;
  std::unique_ptr<DropSchedule> drop_schedule_;
  PruningScheduleConfig pruning_;
  std::unique_ptr<Progress> progress_;

  // Counters (checkpointed).
  int64_t t_ = 0;             // optimizer steps taken
  int64_t last_update_ = 0;   // step of the last topology update
  int64_t iteration_ = 0;     // batches consumed
  int64_t epoch_ = 0, batch_index_ = 0;
  int64_t updates_ = 0;
  bool snip_done_ = false;
  double counted_flops_ = 0, theoretical_flops_ = 0, dense_flops_ = 0, train_seconds_ = 0, update_seconds_ = 0;
  double epoch_loss_sum_ = 0, epoch_correct_ = 0, epoch_samples_ = 0;
  std::vector<nlohmann::json> metrics_;  // every epoch line so far (rewritten atomically each epoch)

  int64_t total_iterations_ = 0, batches_per_epoch_ = 0, total_epochs_ = 0;
};

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
  engine::SgdOptions so;
  so.momentum = static_cast<float>(c_.momentum);
  so.nesterov = c_.nesterov;
  so.weight_decay = static_cast<float>(c_.weight_decay);
  opt_ = std::make_unique<engine::Sgd>(net_.params, so);
  for (engine::SparseParameter* p : net_.params.sparse) {
    LayerState s;
    s.param = p;
    const auto it = plan_.target_nnz.find(p->name);
    ENGINE_CHECK(it != plan_.target_nnz.end(), "sparsity plan has no target for ", p->name);
    s.target_nnz = it->second;
    s.target_sparsity = 1.0 - static_cast<double>(s.target_nnz) /
                                  static_cast<double>(p->weight.rows() * p->weight.cols());
    InitHistory(p->weight, &s.history);
    if (c_.method == "snfs") s.ema.assign(p->weight.rows() * p->weight.cols(), 0.0f);
    layers_.push_back(std::move(s));
  }
}

float Trainer::LearningRate() const {
  engine::LrScheduleOptions o;
  o.base_lr = static_cast<float>(c_.lr);
  o.kind = c_.lr_schedule;
  o.total_steps = total_iterations_;
  o.warmup_steps = static_cast<int64_t>(c_.warmup_epochs * c_.multiplier * batches_per_epoch_);
  for (double m : c_.lr_milestones) o.milestones.push_back(static_cast<int64_t>(m * c_.multiplier * batches_per_epoch_));
  o.gamma = static_cast<float>(c_.lr_gamma);
  return engine::LearningRate(o, iteration_);
}

// One mini-batch: forward, backward, then an optimizer step and/or a topology update.
float Trainer::RunIteration(const Batch& batch, int* correct) {
  const std::string& m = c_.method;
  const bool sparse_updates = m == "rigl" || m == "set" || m == "snfs";
  const bool rigl_update = m == "rigl" && drop_schedule_->IsUpdateStep(t_, last_update_);
  const bool snip_now = m == "snip" && !snip_done_;
  for (LayerState& s : layers_) s.param->want_dense_grad = rigl_update || m == "snfs";

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
  } else if (rigl_update) {
    TopologyUpdate(GrowMode::kGradient, t_);  // replaces the optimizer step; t stays
    last_update_ = t_;
  } else {
    opt_->Step(LearningRate());
    ++t_;
    if (sparse_updates && m != "rigl" && drop_schedule_->IsUpdateStep(t_, last_update_)) {
      TopologyUpdate(m == "set" ? GrowMode::kRandom : GrowMode::kScores, t_);
      last_update_ = t_;
    }
    if (m == "pruning" && IsPruningStep(pruning_, t_)) GradualPrune(t_);
  }
  const double update_time = (snip_now || rigl_update || update_timer.Seconds() > 0) ? update_timer.Seconds() : 0;
  update_seconds_ += update_time;
  counted_flops_ += static_cast<double>(engine::FlopCounter::Get() - flops_before);
  const TrainFlops f = TrainingFlopsPerSample(c_, plan_, net_, t_);
  theoretical_flops_ += f.method * batch.size();
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
  for (LayerState& s : layers_) {
    engine::SparseParameter& p = *s.param;
    std::vector<float> saliency(p.weight.nnz());
    for (int64_t q = 0; q < p.weight.nnz(); ++q) saliency[q] = p.grad[q] * p.weight.values()[q];
    const std::vector<int64_t> drop = LowestMagnitude(saliency.data(), p.weight.nnz(), p.weight.nnz() - s.target_nnz);
    PruneLayer(p, drop, opt_.get());
    InitHistory(p.weight, &s.history);
  }
}

void Trainer::GradualPrune(int64_t t) {
  for (LayerState& s : layers_) {
    engine::SparseParameter& p = *s.param;
    pruning_.final_sparsity = s.target_sparsity;
    const double st = PruningSparsity(pruning_, t);
    const int64_t total = p.weight.rows() * p.weight.cols();
    const int64_t keep = std::max(s.target_nnz, total - static_cast<int64_t>(std::floor(st * total)));
    if (keep >= p.weight.nnz()) continue;
    const std::vector<int64_t> drop = LowestMagnitude(p.weight.values().data(), p.weight.nnz(), p.weight.nnz() - keep);
    PruneLayer(p, drop, opt_.get());
  }
}

void Trainer::CheckFinite(float loss) {
  if (std::isfinite(loss)) return;
  std::string first = "none (the inputs or the loss itself)";
  auto finite = [](const float* v, int64_t n) {
    for (int64_t i = 0; i < n; ++i) if (!std::isfinite(v[i])) return false;
    return true;
  };
  for (engine::DenseParameter* p : net_.params.dense) {
    if (!finite(p->var.value().data(), p->var.value().size())) { first = p->name; break; }
  }
  if (first[0] == 'n') {
    for (engine::SparseParameter* p : net_.params.sparse) {
      if (!finite(p->weight.values().data(), p->weight.nnz())) { first = p->name; break; }
    }
  }
  ENGINE_CHECK(false, "training diverged: loss is ", loss, " at step ", t_, " (epoch ", epoch_ + 1, ", batch ",
               batch_index_, "); first non-finite parameter: ", first, ". Try a smaller --lr");
}

void Trainer::Evaluate(double* accuracy, double* loss) {
  net_.module->SetTraining(false);
  engine::data::BatcherOptions bo;
  bo.batch_size = 1000;
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

}  // namespace
}  // namespace rigl
