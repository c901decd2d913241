// Kernel-level timing of one weight layer's training step, phase by phase: forward (Y = W X), input gradient
// (dX = Wᵀ dY), weight gradient (dW = dY Xᵀ, on the pattern when sparse) and the optimizer update of that weight
// (engine::Sgd on a parameter holding the same pattern). The kernels are called directly on the layer's real shapes
// (the model's real padding and spatial sizes, not the FLOPs counter's 'same' assumption) with random operands;
// dense layers go through OpenBLAS (Gemm, im2col conv), sparse ones through our CSR kernels. Not an end-to-end step:
// step_timing does that through the model and autograd.
#ifndef BENCH_FLOPS_LAYER_TIMING_H_
#define BENCH_FLOPS_LAYER_TIMING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "engine/sparse/csr.h"
#include "models/layer_spec.h"

namespace flopsbench {

// One weight layer as the kernels see it.
struct LayerShape {
  std::string name;        // "layer1.0.conv1.weight"
  bool conv = false;       // false: fully connected [out, in] on [in, batch]
  bool depthwise = false;  // a depthwise conv (in == out channels, one filter each; always dense)
  int64_t in = 0;          // input features (fc) or channels (conv)
  int64_t out = 0;         // output features or channels
  int64_t kernel = 1;
  int64_t stride = 1;
  int64_t pad = 0;
  int64_t in_hw = 1;       // real input side (conv)
  bool needs_input_grad = true;  // false for the first layer (its input is data)

  int64_t out_hw() const { return conv ? (in_hw + 2 * pad - kernel) / stride + 1 : 1; }
  int64_t weights() const { return (depthwise ? 1 : in) * out * kernel * kernel; }
  // Columns of the activation per sample: out_hw² for conv, 1 for fc.
  int64_t out_pixels() const { return out_hw() * out_hw(); }
  // "fc", "conv1x1", "conv3x3", "conv5x5", "conv7x7", "dw3x3".
  std::string type() const;
};

// The real kernel shapes of a model's weight layers, in forward order (MobileNet's depthwise layers run the
// depthwise kernel, always dense). The counter's quirks are undone: LeNet-5 conv2 has pad 0; a conv first layer
// takes the image_hw x image_hw image with pad k/2 (ResNet-50's and MobileNet's conv1: 224, not the counter's
// zero-padded 230 / 225).
std::vector<LayerShape> RealLayerShapes(const std::string& model, const std::vector<models::LayerSpec>& layers,
                                        int64_t image_hw);

struct LayerTiming {
  std::string name, type;
  int64_t weights = 0, nnz = 0;  // nnz == weights for a dense layer
  bool sparse = false;
  // Median seconds per call over the timed repetitions.
  double forward = 0, input_grad = 0, weight_grad = 0, optimizer = 0;
  // Useful FLOPs of one call of each product phase: 2·nnz·batch·out_pixels (input_grad 0 when not needed).
  double forward_flops = 0, input_grad_flops = 0, weight_grad_flops = 0;
  double total() const { return forward + input_grad + weight_grad + optimizer; }
  // The three product phases (no optimizer): their useful FLOPs and their seconds.
  double product_flops() const { return forward_flops + input_grad_flops + weight_grad_flops; }
  double product_seconds() const { return forward + input_grad + weight_grad; }
};

// Times one layer at batch size `batch`. pattern == nullptr: dense weight (OpenBLAS); otherwise the layer's CSR
// weight (its pattern and values are used as given). `repeats` timed calls per phase after one warm-up call.
LayerTiming TimeLayer(const LayerShape& shape, const engine::CsrMatrix* pattern, int64_t batch, int repeats,
                      uint64_t seed);

// The median of v (v non-empty; copies).
double Median(std::vector<double> v);

}  // namespace flopsbench

#endif  // BENCH_FLOPS_LAYER_TIMING_H_
