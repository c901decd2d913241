// Kernel-level per-layer phase timing (see layer_timing.h).
#include "bench/flops/layer_timing.h"

#include <algorithm>
#include <functional>

#include "engine/autograd/parameter.h"
#include "engine/base/check.h"
#include "engine/base/rng.h"
#include "engine/base/timer.h"
#include "engine/kernels/conv2d.h"
#include "engine/kernels/depthwise_conv2d.h"
#include "engine/kernels/gemm.h"
#include "engine/kernels/sddmm.h"
#include "engine/kernels/sparse_conv2d.h"
#include "engine/kernels/spmm.h"
#include "engine/kernels/spmm_transposed.h"
#include "engine/optim/sgd.h"
#include "engine/tensor/tensor.h"

namespace flopsbench {
namespace {

void FillUniform(engine::Rng& rng, float* data, int64_t n) {
  for (int64_t i = 0; i < n; ++i) data[i] = rng.UniformFloat(-1.0f, 1.0f);
}

engine::Tensor RandomTensor(std::vector<int64_t> shape, engine::Rng& rng) {
  engine::Tensor t(std::move(shape));
  FillUniform(rng, t.data(), t.size());
  return t;
}

// One warm-up call, then the median of `repeats` timed calls.
double TimeMedian(int repeats, const std::function<void()>& fn) {
  fn();
  std::vector<double> seconds;
  for (int r = 0; r < repeats; ++r) {
    engine::Timer timer;
    fn();
    seconds.push_back(timer.Seconds());
  }
  return Median(seconds);
}

}  // namespace

std::string LayerShape::type() const {
  if (!conv) return "fc";
  return (depthwise ? "dw" : "conv") + std::to_string(kernel) + "x" + std::to_string(kernel);
}

double Median(std::vector<double> v) {
  ENGINE_CHECK(!v.empty(), "Median: no values");
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::vector<LayerShape> RealLayerShapes(const std::string& model, const std::vector<models::LayerSpec>& layers,
                                        int64_t image_hw) {
  std::vector<LayerShape> shapes;
  for (const models::LayerSpec& l : layers) {
    LayerShape s;
    s.name = l.name;
    s.depthwise = l.kind == models::LayerSpec::kDepthwiseConv;
    s.conv = l.kind == models::LayerSpec::kConv || s.depthwise;
    s.in = l.in_channels;
    s.out = l.out_channels;
    if (s.conv) {
      ENGINE_CHECK(l.kernel_h == l.kernel_w, "RealLayerShapes: layer ", l.name, " has a ", l.kernel_h, "x",
                   l.kernel_w, " kernel; expected a square one");
      s.kernel = l.kernel_h;
      s.stride = l.stride;
      s.pad = s.kernel / 2;
      s.in_hw = l.input_hw;
      // At ImageNet shape the counter sees a strided depthwise conv's Keras-padded input (113 for 112; models::
      // MobileNetLayers); the kernel runs on the real, even side.
      if (s.depthwise && s.stride == 2 && image_hw >= 96 && s.in_hw % 2 == 1) --s.in_hw;
      if (model == "lenet5" && l.name == "conv2.weight") s.pad = 0;  // 'valid': 14 -> 10
      if (shapes.empty()) s.in_hw = image_hw;  // the first layer sees the image itself
    }
    s.needs_input_grad = !shapes.empty();
    shapes.push_back(s);
  }
  return shapes;
}

LayerTiming TimeLayer(const LayerShape& shape, const engine::CsrMatrix* pattern, int64_t batch, int repeats,
                      uint64_t seed) {
  namespace k = engine::kernels;
  engine::Rng rng = engine::Rng::Stream(seed, std::hash<std::string>()(shape.name));
  LayerTiming t;
  t.name = shape.name;
  t.type = shape.type();
  t.weights = shape.weights();
  t.sparse = pattern != nullptr;
  t.nnz = t.sparse ? pattern->nnz() : t.weights;
  const int64_t columns = batch * shape.out_pixels();  // output columns of Y (N·P·Q or N)
  const double flops = 2.0 * static_cast<double>(t.nnz) * static_cast<double>(columns);
  t.forward_flops = t.weight_grad_flops = flops;
  t.input_grad_flops = shape.needs_input_grad ? flops : 0.0;

  // Activations: X [in, N·H·W] (fc: [in, N]), Y and dY [out, N·P·Q].
  const int64_t in_cols = shape.conv ? batch * shape.in_hw * shape.in_hw : batch;
  engine::Tensor x = RandomTensor({shape.in, in_cols}, rng);
  engine::Tensor d_x({shape.in, in_cols});
  engine::Tensor y({shape.out, columns});
  engine::Tensor d_y = RandomTensor({shape.out, columns}, rng);
  engine::kernels::Conv2dParams cp;
  cp.batch = batch, cp.in_channels = shape.in, cp.in_h = cp.in_w = shape.in_hw, cp.out_channels = shape.out;
  cp.kernel_h = cp.kernel_w = shape.kernel, cp.stride = shape.stride, cp.pad = shape.pad;

  engine::SgdOptions so;
  so.momentum = 0.9f, so.nesterov = true, so.weight_decay = 1e-4f;  // the trainer's defaults
  if (t.sparse) {
    engine::SparseParameter w(shape.name, *pattern);  // same pattern and values
    FillUniform(rng, w.grad.data(), w.weight().nnz());
    const engine::CsrView wv = w.weight().view(/*with_transpose=*/true);
    engine::AlignedVector<float> d_w(static_cast<size_t>(w.weight().nnz()), 0.0f);
    if (shape.conv) {
      t.forward = TimeMedian(repeats, [&] { k::SparseConv2dForward(cp, wv, x.view(), y.view()); });
      if (shape.needs_input_grad) {
        t.input_grad = TimeMedian(repeats, [&] { k::SparseConv2dBackwardInput(cp, wv, d_y.view(), d_x.view()); });
      }
      t.weight_grad =
          TimeMedian(repeats, [&] { k::SparseConv2dBackwardWeight(cp, wv, d_y.view(), x.view(), d_w.data()); });
    } else {
      t.forward = TimeMedian(repeats, [&] { k::SpmmCsr(wv, x.view(), y.view()); });
      if (shape.needs_input_grad) {
        t.input_grad = TimeMedian(repeats, [&] { k::SpmmCsrTransposed(wv, d_y.view(), d_x.view()); });
      }
      t.weight_grad = TimeMedian(repeats, [&] { k::SddmmCsr(wv, d_y.view(), x.view(), d_w.data()); });
    }
    engine::ParameterList params;
    params.sparse.push_back(&w);
    engine::Sgd sgd(params, so);
    t.optimizer = TimeMedian(repeats, [&] { sgd.Step(1e-6f); });
  } else if (shape.depthwise) {
    ENGINE_CHECK(shape.in == shape.out, "TimeLayer: depthwise layer ", shape.name, " maps ", shape.in, " to ",
                 shape.out, " channels; expected equal counts");
    engine::DenseParameter w(shape.name, RandomTensor({shape.out, shape.kernel * shape.kernel}, rng));
    FillUniform(rng, w.var.grad().data(), w.var.grad().size());
    const engine::ConstDenseView wv = w.var.value().view();
    engine::Tensor d_w({shape.out, shape.kernel * shape.kernel});
    t.forward = TimeMedian(repeats, [&] { k::DepthwiseConv2dForward(cp, wv, x.view(), y.view()); });
    if (shape.needs_input_grad) {
      t.input_grad = TimeMedian(repeats, [&] { k::DepthwiseConv2dBackwardInput(cp, wv, d_y.view(), d_x.view()); });
    }
    t.weight_grad =
        TimeMedian(repeats, [&] { k::DepthwiseConv2dBackwardWeight(cp, d_y.view(), x.view(), d_w.view()); });
    engine::ParameterList params;
    params.dense.push_back(&w);
    engine::Sgd sgd(params, so);
    t.optimizer = TimeMedian(repeats, [&] { sgd.Step(1e-6f); });
  } else {
    engine::DenseParameter w(shape.name, RandomTensor({shape.out, shape.in * shape.kernel * shape.kernel}, rng));
    FillUniform(rng, w.var.grad().data(), w.var.grad().size());
    const engine::ConstDenseView wv = w.var.value().view();
    engine::Tensor d_w({shape.out, shape.in * shape.kernel * shape.kernel});
    if (shape.conv) {
      t.forward = TimeMedian(repeats, [&] { k::Conv2dForward(cp, wv, x.view(), y.view()); });
      if (shape.needs_input_grad) {
        t.input_grad = TimeMedian(repeats, [&] { k::Conv2dBackwardInput(cp, wv, d_y.view(), d_x.view()); });
      }
      t.weight_grad = TimeMedian(repeats, [&] { k::Conv2dBackwardWeight(cp, d_y.view(), x.view(), d_w.view()); });
    } else {
      t.forward = TimeMedian(repeats, [&] { k::Gemm(false, false, 1.0f, wv, x.view(), 0.0f, y.view()); });
      if (shape.needs_input_grad) {
        t.input_grad = TimeMedian(repeats, [&] { k::Gemm(true, false, 1.0f, wv, d_y.view(), 1.0f, d_x.view()); });
      }
      t.weight_grad = TimeMedian(repeats, [&] { k::Gemm(false, true, 1.0f, d_y.view(), x.view(), 1.0f, d_w.view()); });
    }
    engine::ParameterList params;
    params.dense.push_back(&w);
    engine::Sgd sgd(params, so);
    t.optimizer = TimeMedian(repeats, [&] { sgd.Step(1e-6f); });
  }
  return t;
}

}  // namespace flopsbench
