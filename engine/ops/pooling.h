// Spatial pooling on channel-major conv activations [C, N, H, W]: max and average over kernel x kernel windows
// (square, no dilation, optional zero padding), and global average pooling to feature-major vectors [C, N].
// Output size per spatial axis: P = (H + 2·padding - kernel) / stride + 1.
#ifndef ENGINE_OPS_POOLING_H_
#define ENGINE_OPS_POOLING_H_

#include <cstdint>

#include "engine/autograd/variable.h"

namespace engine {

// y[c, n, p, q] = max over the window (padding cells never win). The gradient goes to the first maximum.
Variable MaxPool2d(const Variable& x, int64_t kernel, int64_t stride, int64_t padding = 0);
// y[c, n, p, q] = sum over the window / kernel² (padding cells count as zeros, PyTorch's default).
Variable AvgPool2d(const Variable& x, int64_t kernel, int64_t stride, int64_t padding = 0);
// y[c, n] = mean over h, w of x[c, n, h, w].
Variable GlobalAvgPool(const Variable& x);

}  // namespace engine

#endif  // ENGINE_OPS_POOLING_H_
