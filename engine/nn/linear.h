// Linear module: a fully connected layer whose weight is dense (density 1) or CSR-sparse with an exact nonzero
// count. Parameters are "<name>.weight" [out, in] and "<name>.bias" [out]. Initialisation follows the RigL paper
// convention: Glorot-uniform over the DENSE fan-in/fan-out (limit sqrt(6 / (in + out))), drawn only at stored
// positions, no sparsity-aware rescaling; biases start at zero. FanMode::kStored uses the stored fans instead.
#ifndef ENGINE_NN_LINEAR_H_
#define ENGINE_NN_LINEAR_H_

#include <cstdint>
#include <memory>
#include <string>

#include "engine/autograd/parameter.h"
#include "engine/nn/init.h"
#include "engine/nn/module.h"

namespace engine::nn {

// An [out, in] weight initialised as Linear's (Glorot-uniform over the dense fans, or the stored ones under
// FanMode::kStored, drawn only at stored positions from Rng::Stream(seed, hash of weight_name)), of the given
// storage: exactly one of the two pointers is set. Shared with modules that hold several such weights (nn::Gru).
struct LinearWeight {
  std::unique_ptr<DenseParameter> dense;
  std::unique_ptr<SparseParameter> sparse;
};
LinearWeight MakeLinearWeight(const std::string& weight_name, int64_t in, int64_t out, const WeightStorage& storage,
                              uint64_t seed, FanMode fan);
// y = W x + b through the dense or the sparse linear op.
Variable ApplyLinear(const Variable& x, LinearWeight& w, DenseParameter* b);
// Appends w's parameter to out (dense or sparse).
void CollectWeight(LinearWeight& w, ParameterList* out);

class Linear : public Module {
 public:
  // storage: a dense weight, or a sparse one with exactly storage.nnz stored entries, its pattern from
  // CsrMatrix::RandomPattern (O(nnz) memory). Pattern and values use Rng::Stream(seed, hash of "<name>.weight").
  // `fan` picks the Glorot fans of a sparse weight (init.h).
  Linear(std::string name, int64_t in, int64_t out, WeightStorage storage = WeightStorage::Dense(), uint64_t seed = 0,
         bool bias = true, FanMode fan = FanMode::kDense);

  Variable Forward(const Variable& x) override;
  void CollectParameters(ParameterList* out) override;

  bool is_sparse() const { return weight_.sparse != nullptr; }
  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }
  DenseParameter* dense_weight() { return weight_.dense.get(); }    // null when sparse
  SparseParameter* sparse_weight() { return weight_.sparse.get(); }  // null when dense
  DenseParameter* bias() { return bias_.get(); }                      // null without bias

 private:
  int64_t in_, out_;
  LinearWeight weight_;
  std::unique_ptr<DenseParameter> bias_;
};

}  // namespace engine::nn

#endif  // ENGINE_NN_LINEAR_H_
