// The per-layer kernel choice (see layer_kernels.h).
#include "engine/ops/layer_kernels.h"

#include <atomic>

namespace engine {
namespace {

std::atomic<LayerKernels> g_choice{LayerKernels::kAuto};

// Break-even densities: the density at which a layer's sparse kernels (forward, input gradient and weight gradient
// together) take as long as the dense ones on the same shape. Measured on an Intel Xeon (family 6 model 167,
// AVX-512, OpenBLAS SkylakeX), 2 threads, batch 128: //bench/kernels:sparse_conv2d_bench's BM_SparseConv2dStep at
// densities 0.2 and 0.5 (interpolated) against //bench/kernels:conv2d_bench's BM_Conv2dDenseStep, and the MLP
// step of issue 11 for linear layers. Rounded up, so a layer near its break-even stays sparse (and O(nnz)).
//   planes:   WRN 32x32x32 on 32x32: 0.75 (sparse 18.2 / 34.0 ms at 0.2 / 0.5, dense 47.0); 64x16x16: 0.61
//   lowered:  128x8x8: 0.55 (19.7 / 44.3 against 48.2); the stride-2 32->64 transition: 0.73
//   direct:   LeNet-5's conv2 and conv1: the sparse kernels were faster at every density (conv2 at 0.5: 1.57 ms
//             against 3.63 dense), so these never run dense
//   linear:   the MLP 784-4096-4096-10 step breaks even at density 0.38 (docs/FLOPS_BENCH.md)
constexpr double kConvDirectFewChannels = 2.0;  // never
constexpr double kConvPlanes = 0.65;
constexpr double kConvLowered = 0.6;
constexpr double kLinear = 0.4;  // linear layers and 1x1 convolutions (SpMM against sgemm)

double Density(int64_t rows, int64_t cols, int64_t nnz) {
  return rows > 0 && cols > 0 ? static_cast<double>(nnz) / (static_cast<double>(rows) * static_cast<double>(cols))
                              : 0.0;
}

}  // namespace

void SetLayerKernels(LayerKernels choice) { g_choice.store(choice); }
LayerKernels GetLayerKernels() { return g_choice.load(); }

const char* LayerKernelsName(LayerKernels choice) {
  switch (choice) {
    case LayerKernels::kAuto: return "auto";
    case LayerKernels::kSparse: return "sparse";
    case LayerKernels::kDense: return "dense";
  }
  return "?";
}

LayerKernels LayerKernelsNamed(const std::string& name) {
  for (LayerKernels choice : {LayerKernels::kSparse, LayerKernels::kDense}) {
    if (name == LayerKernelsName(choice)) return choice;
  }
  return LayerKernels::kAuto;
}

double ConvBreakEvenDensity(const kernels::Conv2dParams& cp) {
  switch (kernels::DenseConv2dPathFor(cp)) {
    case kernels::DenseConv2dPath::kDirectFewChannels: return kConvDirectFewChannels;
    case kernels::DenseConv2dPath::kPlanes: return kConvPlanes;
    case kernels::DenseConv2dPath::kLowered: return kConvLowered;
    case kernels::DenseConv2dPath::kPointwise: return kLinear;
  }
  return 1.0;
}

double LinearBreakEvenDensity() { return kLinear; }

bool ConvRunsDense(const kernels::Conv2dParams& cp, int64_t nnz) {
  const LayerKernels choice = GetLayerKernels();
  if (choice != LayerKernels::kAuto) return choice == LayerKernels::kDense;
  return Density(cp.out_channels, cp.filter_size(), nnz) >= ConvBreakEvenDensity(cp);
}

bool LinearRunsDense(int64_t rows, int64_t cols, int64_t nnz) {
  const LayerKernels choice = GetLayerKernels();
  if (choice != LayerKernels::kAuto) return choice == LayerKernels::kDense;
  return Density(rows, cols, nnz) >= LinearBreakEvenDensity();
}

}  // namespace engine
