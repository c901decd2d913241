// SNFS (Dettmers & Zettlemoyer 2019; RIGL.md 3.6): keeps an exponential moving average of the dense gradient of
// every masked layer, updated after every backward, and grows where |EMA| is largest (a blocked layer: where the
// Frobenius norm of the EMA's block is); updates sit after the
// optimizer step like SET's. The EMA is rows x cols floats per layer: SNFS is dense by definition, the one method
// whose memory scales with the dense size, so it is refused past a budget instead of failing deep in an allocation.
#include <algorithm>
#include <memory>
#include <vector>

#include "engine/base/check.h"
#include "engine/tensor/tensor.h"
#include "rigl/methods/registry.h"

namespace rigl {
namespace {

// Largest dense-gradient EMA SNFS agrees to allocate per layer.
constexpr double kSnfsEmaBudgetBytes = 4.0 * (1 << 30);

class Snfs : public TrainingMethod {
 public:
  explicit Snfs(const MethodContext& context) : TrainingMethod(context) {
    for (LayerState& s : layers()) {
      const engine::SparseParameter& w = *s.param;
      const double ema_bytes = 4.0 * static_cast<double>(w.rows()) * static_cast<double>(w.cols());
      ENGINE_CHECK(ema_bytes <= kSnfsEmaBudgetBytes, "--method=snfs: layer ", s.param->name, " is ", w.rows(), " x ",
                   w.cols(), ", so its dense-gradient EMA needs ", ema_bytes / (1 << 30), " GiB; expected at most ",
                   kSnfsEmaBudgetBytes / (1 << 30), " GiB (SNFS is dense by definition; use --method=rigl, whose "
                   "grow step needs only one tile of the dense gradient)");
      ema_.emplace_back(static_cast<size_t>(w.rows() * w.cols()), 0.0f);
    }
  }

  void BeforeForward(const IterationPlan&) override {
    for (LayerState& s : layers()) {
      s.param->want_dense_grad = true;
      s.param->skip_pattern_grad = false;
    }
  }
  void AfterBackward(const IterationPlan&) override {
    const float beta = static_cast<float>(config().snfs_momentum);
    for (size_t l = 0; l < layers().size(); ++l) {
      engine::SparseParameter& p = *layers()[l].param;
      const int64_t rows = p.rows(), cols = p.cols();
      const int64_t tile = std::max<int64_t>(1, (int64_t{1} << 20) / std::max<int64_t>(cols, 1));
      engine::Tensor buf({std::min(tile, rows), cols});
      for (int64_t r0 = 0; r0 < rows; r0 += tile) {
        const int64_t r1 = std::min(rows, r0 + tile);
        p.dense_grad_rows(r0, r1, {buf.data(), r1 - r0, cols, cols});
        float* ema = ema_[l].data() + r0 * cols;
        for (int64_t q = 0; q < (r1 - r0) * cols; ++q) ema[q] = beta * ema[q] + (1.0f - beta) * buf[q];
      }
    }
  }
  TopologyChange UpdateTopology(const IterationPlan& it) override {
    return DropAndGrow(GrowMode::kScores, it.update_step, [this](size_t l) -> RowTileFn {
      const std::vector<float>* ema = &ema_[l];
      const int64_t cols = layers()[l].param->cols();
      return [ema, cols](int64_t r0, int64_t r1, engine::DenseView out) {
        for (int64_t i = r0; i < r1; ++i) {
          std::copy(ema->data() + i * cols, ema->data() + (i + 1) * cols, out.row(i - r0));
        }
      };
    });
  }
  void Save(CheckpointWriter* w) const override {
    for (size_t l = 0; l < ema_.size(); ++l) {
      w->AddFloats("snfs:" + (*context_.layers)[l].param->name, ema_[l].data(), static_cast<int64_t>(ema_[l].size()));
    }
  }
  void Restore(const CheckpointReader& r, const std::string&) override {
    for (size_t l = 0; l < ema_.size(); ++l) {
      ema_[l] = r.Floats("snfs:" + layers()[l].param->name, static_cast<int64_t>(ema_[l].size()));
    }
  }

 private:
  std::vector<std::vector<float>> ema_;  // per layer, rows x cols
};

}  // namespace

std::unique_ptr<TrainingMethod> MakeSnfs(const MethodContext& context) { return std::make_unique<Snfs>(context); }

}  // namespace rigl
