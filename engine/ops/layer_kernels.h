// Which kernels a sparse (CSR) layer runs: its own sparse kernels, or the dense ones on a dense copy of its weight.
// A layer dense enough runs faster on the dense kernels (WRN-22-2's last shortcut keeps 85% of its weights under ERK
// at 90% sparsity), so by default each layer takes the faster one by a fixed cost model: dense when its density
// reaches the break-even density measured for its kind of layer (SparseProp measures both kernels at start-up
// instead; a measured choice would make the results depend on the timing, so this one depends on the shape and the
// number of stored weights only). The gradients are the same either way, on the weight's pattern only; the dense
// path computes the dense weight gradient and keeps its pattern entries. Block-sparse (BSR) weights always run the
// BSR kernels.
#ifndef ENGINE_OPS_LAYER_KERNELS_H_
#define ENGINE_OPS_LAYER_KERNELS_H_

#include <cstdint>
#include <string>

#include "engine/kernels/conv2d.h"

namespace engine {

enum class LayerKernels { kAuto, kSparse, kDense };

// Process-wide; the trainer sets it once before training (default kAuto). Not to be changed while ops run.
void SetLayerKernels(LayerKernels choice);
LayerKernels GetLayerKernels();
const char* LayerKernelsName(LayerKernels choice);  // "auto", "sparse", "dense"
// The choice LayerKernelsName names `name`; kAuto for any other text (the trainer's flag is validated before).
LayerKernels LayerKernelsNamed(const std::string& name);

// The break-even densities of the cost model (see layer_kernels.cc for the measurements behind them).
double ConvBreakEvenDensity(const kernels::Conv2dParams& cp);
double LinearBreakEvenDensity();

// Whether a CSR layer with `nnz` stored weights runs the dense kernels under the current setting.
bool ConvRunsDense(const kernels::Conv2dParams& cp, int64_t nnz);
bool LinearRunsDense(int64_t rows, int64_t cols, int64_t nnz);

}  // namespace engine

#endif  // ENGINE_OPS_LAYER_KERNELS_H_
