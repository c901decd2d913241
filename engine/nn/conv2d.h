// Conv2d module: a 2-D convolution on channel-major activations [C, N, H, W] whose weight is dense (density 1) or
// CSR-sparse with an exact nonzero count. Parameters are "<name>.weight" (dense [K, C, R, S]; sparse CSR [K, C*R*S],
// column c*R*S + r*S + s) and "<name>.bias" [K]. Initialisation: He (Kaiming) normal over the DENSE fan-in,
// std = sqrt(2 / (C*R*S)), drawn only at stored positions, no sparsity-aware rescaling; biases start at zero.
#ifndef ENGINE_NN_CONV2D_H_
#define ENGINE_NN_CONV2D_H_

#include <cstdint>
#include <memory>
#include <string>

#include "engine/autograd/parameter.h"
#include "engine/nn/init.h"
#include "engine/nn/module.h"

namespace engine::nn {

class Conv2d : public Module {
 public:
  // Square kernel x kernel filter, the same stride and zero padding on both axes. storage: a dense weight, or a
  // sparse one with exactly storage.nnz stored entries of K x C*R*S (pattern from CsrMatrix::RandomPattern, O(nnz)
  // memory). Pattern and values use Rng::Stream(seed, hash of "<name>.weight"). He-normal over the dense fan-in
  // C*R*S, or over nnz / K with FanMode::kStored (init.h).
  Conv2d(std::string name, int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride = 1,
         int64_t pad = 0, WeightStorage storage = WeightStorage::Dense(), uint64_t seed = 0, bool bias = true,
         FanMode fan = FanMode::kDense);

  // x [C, N, H, W] -> [K, N, P, Q].
  Variable Forward(const Variable& x) override;
  void CollectParameters(ParameterList* out) override;

  bool is_sparse() const { return sparse_weight_ != nullptr; }
  int64_t in_channels() const { return in_channels_; }
  int64_t out_channels() const { return out_channels_; }
  int64_t kernel() const { return kernel_; }
  int64_t stride() const { return stride_; }
  int64_t pad() const { return pad_; }
  DenseParameter* dense_weight() { return dense_weight_.get(); }    // null when sparse
  SparseParameter* sparse_weight() { return sparse_weight_.get(); }  // null when dense
  DenseParameter* bias() { return bias_.get(); }                      // null without bias

 private:
  int64_t in_channels_, out_channels_, kernel_, stride_, pad_;
  std::unique_ptr<DenseParameter> dense_weight_;
  std::unique_ptr<SparseParameter> sparse_weight_;
  std::unique_ptr<DenseParameter> bias_;
};

// DepthwiseConv2d module: one kernel x kernel filter per channel (depth multiplier 1), always dense, no bias.
// Parameter "<name>.weight" [C, 1, R, S] (PyTorch's groups=C layout), He normal over its fan-in R*S from
// Rng::Stream(seed, hash of the name).
class DepthwiseConv2d : public Module {
 public:
  DepthwiseConv2d(std::string name, int64_t channels, int64_t kernel, int64_t stride, int64_t pad, uint64_t seed);

  // x [C, N, H, W] -> [C, N, P, Q].
  Variable Forward(const Variable& x) override;
  void CollectParameters(ParameterList* out) override;

  int64_t channels() const { return channels_; }
  DenseParameter& weight() { return *weight_; }

 private:
  int64_t channels_, kernel_, stride_, pad_;
  std::unique_ptr<DenseParameter> weight_;
};

}  // namespace engine::nn

#endif  // ENGINE_NN_CONV2D_H_
