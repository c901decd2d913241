// Conv2d module: construction (He-normal initialisation) and dispatch to the dense or sparse conv op.
#include "engine/nn/conv2d.h"

#include <cmath>

#include "engine/base/check.h"
#include "engine/base/rng.h"
#include "engine/nn/init.h"
#include "engine/ops/conv2d.h"
#include "engine/ops/depthwise_conv2d.h"
#include "engine/ops/sparse_conv2d.h"

namespace engine::nn {

Conv2d::Conv2d(std::string name, int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride,
               int64_t pad, WeightStorage storage, uint64_t seed, bool bias, FanMode fan)
    : Module(std::move(name)),
      in_channels_(in_channels),
      out_channels_(out_channels),
      kernel_(kernel),
      stride_(stride),
      pad_(pad) {
  ENGINE_CHECK(in_channels > 0 && out_channels > 0 && kernel > 0, "nn::Conv2d(", this->name(), "): in_channels = ",
               in_channels, ", out_channels = ", out_channels, ", kernel = ", kernel, "; expected all > 0");
  ENGINE_CHECK(stride > 0 && pad >= 0, "nn::Conv2d(", this->name(), "): stride = ", stride, ", pad = ", pad,
               "; expected stride > 0 and pad >= 0");
  const std::string weight_name = Child("weight");
  Rng rng = Rng::Stream(seed, NameHash(weight_name));
  const int64_t fan_in = in_channels * kernel * kernel;
  if (!storage.sparse) {
    const double std_dev = std::sqrt(2.0 / static_cast<double>(fan_in));  // He normal over the dense fan-in
    Tensor w({out_channels, in_channels, kernel, kernel});
    for (int64_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(std_dev * rng.Normal());
    dense_weight_ = std::make_unique<DenseParameter>(weight_name, std::move(w));
  } else if (storage.blocked()) {
    // Blocks over output channels (rows) x filter taps (columns c*R*S + r*S + s).
    BsrMatrix w = RandomBlockPattern(weight_name, out_channels, fan_in, storage, rng);
    const double std_dev = std::sqrt(2.0 / InitFan(fan, fan_in, w.entries(), out_channels));
    w.FillEntries([&rng, std_dev] { return static_cast<float>(std_dev * rng.Normal()); });
    sparse_weight_ = std::make_unique<SparseParameter>(weight_name, std::move(w));
  } else {
    const int64_t total = out_channels * fan_in;
    const int64_t nnz = storage.nnz;
    ENGINE_CHECK(nnz >= 0 && nnz <= total, "nn::Conv2d(", weight_name, "): nnz = ", nnz,
                 "; expected 0 <= nnz <= out_channels * in_channels * kernel^2 = ", total);
    CsrMatrix w = CsrMatrix::RandomPattern(out_channels, fan_in, nnz, rng);
    const double std_dev = std::sqrt(2.0 / InitFan(fan, fan_in, nnz, out_channels));
    for (float& v : w.mutable_values()) v = static_cast<float>(std_dev * rng.Normal());
    sparse_weight_ = std::make_unique<SparseParameter>(weight_name, std::move(w));
  }
  if (bias) bias_ = std::make_unique<DenseParameter>(Child("bias"), Tensor({out_channels}));
}

Variable Conv2d::Forward(const Variable& x) {
  if (sparse_weight_) return SparseConv2d(x, *sparse_weight_, bias_.get(), kernel_, kernel_, stride_, pad_);
  return engine::Conv2d(x, *dense_weight_, bias_.get(), stride_, pad_);
}

void Conv2d::CollectParameters(ParameterList* out) {
  if (dense_weight_) out->dense.push_back(dense_weight_.get());
  if (sparse_weight_) out->sparse.push_back(sparse_weight_.get());
  if (bias_) out->dense.push_back(bias_.get());
}

DepthwiseConv2d::DepthwiseConv2d(std::string name, int64_t channels, int64_t kernel, int64_t stride, int64_t pad,
                                 uint64_t seed)
    : Module(std::move(name)), channels_(channels), kernel_(kernel), stride_(stride), pad_(pad) {
  ENGINE_CHECK(channels > 0 && kernel > 0 && stride > 0 && pad >= 0, "nn::DepthwiseConv2d(", this->name(),
               "): channels = ", channels, ", kernel = ", kernel, ", stride = ", stride, ", pad = ", pad,
               "; expected channels, kernel, stride > 0 and pad >= 0");
  const std::string weight_name = Child("weight");
  Rng rng = Rng::Stream(seed, NameHash(weight_name));
  const double std_dev = std::sqrt(2.0 / static_cast<double>(kernel * kernel));  // He normal over the fan-in
  Tensor w({channels, 1, kernel, kernel});
  for (int64_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(std_dev * rng.Normal());
  weight_ = std::make_unique<DenseParameter>(weight_name, std::move(w));
}

Variable DepthwiseConv2d::Forward(const Variable& x) { return engine::DepthwiseConv2d(x, *weight_, stride_, pad_); }

void DepthwiseConv2d::CollectParameters(ParameterList* out) { out->dense.push_back(weight_.get()); }

}  // namespace engine::nn
