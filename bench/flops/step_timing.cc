// End-to-end step timing, counted FLOPs, memory and topology-update cost (see step_timing.h).
#include "bench/flops/step_timing.h"

#include <malloc.h>

#include <algorithm>
#include <unordered_set>
#include <vector>

#include "bench/flops/layer_timing.h"
#include "bench/flops/machine.h"
#include "engine/autograd/variable.h"
#include "engine/base/flop_counter.h"
#include "engine/base/rng.h"
#include "engine/base/timer.h"
#include "engine/ops/loss.h"
#include "engine/optim/sgd.h"
#include "rigl/updater.h"

namespace flopsbench {
namespace {

// Bytes of every non-leaf value reachable from `root` through parent links (each node once).
int64_t GraphActivationBytes(const engine::Variable& root) {
  std::unordered_set<const engine::Node*> seen;
  std::vector<const engine::Node*> stack = {root.node().get()};
  int64_t bytes = 0;
  while (!stack.empty()) {
    const engine::Node* n = stack.back();
    stack.pop_back();
    if (n == nullptr || !seen.insert(n).second) continue;
    if (!n->is_leaf) bytes += n->value.size() * static_cast<int64_t>(sizeof(float));
    for (const auto& p : n->parents) stack.push_back(p.get());
  }
  return bytes;
}

int64_t StateBytes(const engine::ParameterList& params) {
  int64_t bytes = 0;
  for (const engine::DenseParameter* p : params.dense) bytes += 3 * p->var.value().size() * 4;  // w, grad, momentum
  for (const engine::SparseParameter* p : params.sparse) bytes += p->MemoryBytes() + 2 * p->stored() * 4;
  return bytes;
}

}  // namespace

StepResult TimeTrainingStep(const models::NetworkOptions& network,
                            const std::function<models::Network(const models::NetworkOptions&)>& build,
                            const StepOptions& o) {
  StepResult r;
  malloc_trim(0);
  ResetPeakRss();
  const int64_t rss_before = RssBytes();

  models::Network net = build(network);
  engine::SgdOptions so;
  so.momentum = 0.9f, so.nesterov = true, so.weight_decay = 1e-4f;  // the trainer's defaults
  engine::Sgd sgd(net.params, so);
  const float lr = 1e-3f;

  // Random input in the model's layout and random labels.
  engine::Rng rng = engine::Rng::Stream(o.seed, 0xF10F5);
  const int64_t features = network.in_channels * network.input_hw * network.input_hw;
  engine::Tensor x = net.channel_major_input
                         ? engine::Tensor({network.in_channels, o.batch, network.input_hw, network.input_hw})
                         : engine::Tensor({features, o.batch});
  for (int64_t i = 0; i < x.size(); ++i) x[i] = rng.UniformFloat(-1.0f, 1.0f);
  std::vector<int32_t> labels(o.batch);
  for (int32_t& l : labels) l = static_cast<int32_t>(rng.UniformInt(network.num_classes));

  // The forward pass and loss of one step; `activations` gets the graph's bytes when non-null.
  auto forward = [&](int64_t* activations) {
    engine::Variable logits = net.module->Forward(engine::Constant(x));
    engine::Variable loss = engine::SoftmaxCrossEntropy(logits, labels, 0.0f);
    if (activations != nullptr) *activations = GraphActivationBytes(loss);
    return loss;
  };

  std::vector<double> step, fwd, bwd, opt, flops;
  for (int s = 0; s < o.warmup + o.steps; ++s) {
    const uint64_t flops_before = engine::FlopCounter::Get();
    engine::Timer timer;
    sgd.ZeroGrad();
    const double t_zero = timer.Seconds();
    engine::Variable loss = forward(s == 0 ? &r.activation_bytes : nullptr);
    const double t_fwd = timer.Seconds();
    engine::Backward(loss);
    const double t_bwd = timer.Seconds();
    sgd.Step(lr);
    const double t_end = timer.Seconds();
    if (s < o.warmup) continue;
    step.push_back(t_end);
    fwd.push_back(t_fwd - t_zero);
    bwd.push_back(t_bwd - t_fwd);
    opt.push_back(t_zero + t_end - t_bwd);
    flops.push_back(static_cast<double>(engine::FlopCounter::Get() - flops_before));
  }
  r.step = Median(step), r.forward = Median(fwd), r.backward = Median(bwd), r.optimizer = Median(opt);
  r.counted_flops = Median(flops);
  r.state_bytes = StateBytes(net.params);
  r.peak_rss_delta = PeakRssBytes() - rss_before;
  for (const engine::SparseParameter* p : net.params.sparse) {
    if (!p->blocked()) r.patterns.emplace(p->name, p->weight());  // the layer table times CSR kernels only
  }

  if (net.params.sparse.empty() || o.update_repeats <= 0) return r;
  for (const engine::SparseParameter* p : net.params.sparse) {
    const int64_t rows = p->rows(), cols = p->cols();
    r.largest_dense_grad_bytes = std::max(r.largest_dense_grad_bytes, rows * cols * 4);
    // The entry tile UpdateLayer scans (a blocked layer's is the same rows, rounded down to whole block rows).
    const int64_t tile_rows = o.grow_tile_rows > 0 ? o.grow_tile_rows : rigl::DefaultTileRows(cols);
    const int64_t rounded = std::max<int64_t>(1, tile_rows / p->block_rows()) * p->block_rows();
    r.largest_tile_bytes = std::max(r.largest_tile_bytes, std::min(rows, rounded) * cols * 4);
  }
  std::vector<rigl::LayerHistory> history(net.params.sparse.size());
  for (size_t l = 0; l < history.size(); ++l) rigl::InitHistory(net.params.sparse[l]->pattern(), &history[l]);
  auto update_all = [&](rigl::GrowMode mode, uint64_t salt) {
    for (size_t l = 0; l < net.params.sparse.size(); ++l) {
      engine::SparseParameter& p = *net.params.sparse[l];
      rigl::UpdateOptions uo;
      uo.mode = mode;
      uo.tile_rows = o.grow_tile_rows;
      uo.seed = o.seed;
      uo.salt = (salt << 16) ^ l;
      rigl::UpdateLayer(p, o.drop_fraction, uo, [&](engine::PositionMap& map) { sgd.RemapSparse(p, map); },
                        &history[l]);
      p.want_dense_grad = false;
    }
  };

  std::vector<double> rigl_calls, rigl_iter, set_calls;
  int64_t peak_extra = 0;
  // Update 0 measures the peak RSS: malloc_trim first returns the heap to the system, so every buffer of the update
  // is counted (and faults in afresh, which makes it slower than in training, where nothing trims the heap between
  // updates). Updates 1..update_repeats are timed, as the trainer runs them.
  for (int u = 0; u <= o.update_repeats; ++u) {
    const bool measure_memory = u == 0;
    // RigL: the update iteration replaces an optimizer step (RIGL.md 3.2).
    engine::Timer iter;
    for (engine::SparseParameter* p : net.params.sparse) p->want_dense_grad = true;
    sgd.ZeroGrad();
    engine::Backward(forward(nullptr));
    const double t_fb = iter.Seconds();
    int64_t rss0 = 0;
    if (measure_memory) {
      malloc_trim(0);
      ResetPeakRss();
      rss0 = RssBytes();
    }
    engine::Timer calls;
    update_all(rigl::GrowMode::kGradient, 2 * u + 1);
    const double t_calls = calls.Seconds();
    if (measure_memory) {
      peak_extra = PeakRssBytes() - rss0;
    } else {
      rigl_calls.push_back(t_calls);
      rigl_iter.push_back(t_fb + t_calls);
    }
    // SET: a normal step, then a random-grow update.
    sgd.ZeroGrad();
    engine::Backward(forward(nullptr));
    sgd.Step(lr);
    engine::Timer set_timer;
    update_all(rigl::GrowMode::kRandom, 2 * u + 2);
    if (!measure_memory) set_calls.push_back(set_timer.Seconds());
  }
  r.rigl_update = Median(rigl_calls);
  r.rigl_iteration = Median(rigl_iter);
  r.set_update = Median(set_calls);
  r.rigl_update_peak_extra = peak_extra;
  return r;
}

}  // namespace flopsbench
