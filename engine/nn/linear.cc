// Linear module: construction (initialisation) and dispatch to the dense or sparse linear op.
#include "engine/nn/linear.h"

#include <cmath>

#include "engine/base/check.h"
#include "engine/base/rng.h"
#include "engine/nn/init.h"
#include "engine/ops/linear.h"
#include "engine/ops/sparse_linear.h"

namespace engine::nn {

LinearWeight MakeLinearWeight(const std::string& weight_name, int64_t in, int64_t out, const WeightStorage& storage,
                              uint64_t seed, FanMode fan) {
  ENGINE_CHECK(in > 0 && out > 0, "weight ", weight_name, ": in = ", in, ", out = ", out, "; expected both > 0");
  Rng rng = Rng::Stream(seed, NameHash(weight_name));
  LinearWeight result;
  if (!storage.sparse) {
    const float limit = GlorotLimit(in, out);
    Tensor w({out, in});
    for (int64_t i = 0; i < w.size(); ++i) w[i] = rng.UniformFloat(-limit, limit);
    result.dense = std::make_unique<DenseParameter>(weight_name, std::move(w));
  } else if (storage.blocked()) {
    BsrMatrix w = RandomBlockPattern(weight_name, out, in, storage, rng);
    const float limit = GlorotLimit(InitFan(fan, in, w.entries(), out), InitFan(fan, out, w.entries(), in));
    // Every in-bounds entry of a stored block is a weight; padding (outside out x in) stays 0.
    w.FillEntries([&rng, limit] { return rng.UniformFloat(-limit, limit); });
    result.sparse = std::make_unique<SparseParameter>(weight_name, std::move(w));
  } else {
    const int64_t total = in * out;
    const int64_t nnz = storage.nnz;
    ENGINE_CHECK(nnz >= 0 && nnz <= total, "weight ", weight_name, ": nnz = ", nnz,
                 "; expected 0 <= nnz <= in * out = ", total);
    CsrMatrix w = CsrMatrix::RandomPattern(out, in, nnz, rng);
    const float limit = GlorotLimit(InitFan(fan, in, nnz, out), InitFan(fan, out, nnz, in));
    for (float& v : w.mutable_values()) v = rng.UniformFloat(-limit, limit);
    result.sparse = std::make_unique<SparseParameter>(weight_name, std::move(w));
  }
  return result;
}

Variable ApplyLinear(const Variable& x, LinearWeight& w, DenseParameter* b) {
  if (w.sparse) return SparseLinear(x, *w.sparse, b);
  return engine::Linear(x, *w.dense, b);
}

void CollectWeight(LinearWeight& w, ParameterList* out) {
  if (w.dense) out->dense.push_back(w.dense.get());
  if (w.sparse) out->sparse.push_back(w.sparse.get());
}

Linear::Linear(std::string name, int64_t in, int64_t out, WeightStorage storage, uint64_t seed, bool bias,
               FanMode fan)
    : Module(std::move(name)), in_(in), out_(out) {
  ENGINE_CHECK(in > 0 && out > 0, "nn::Linear(", this->name(), "): in = ", in, ", out = ", out,
               "; expected both > 0");
  weight_ = MakeLinearWeight(Child("weight"), in, out, storage, seed, fan);
  if (bias) bias_ = std::make_unique<DenseParameter>(Child("bias"), Tensor({out}));
}

Variable Linear::Forward(const Variable& x) { return ApplyLinear(x, weight_, bias_.get()); }

void Linear::CollectParameters(ParameterList* out) {
  CollectWeight(weight_, out);
  if (bias_) out->dense.push_back(bias_.get());
}

}  // namespace engine::nn
