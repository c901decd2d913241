// Internal to engine/ops: the bookkeeping every op with a SparseParameter weight shares (SparseLinear,
// SparseConv2d), so each op file keeps only its shapes and kernels. Not an op itself and not a public API.
//
// Contract, in the order an op uses it:
//   1. The op checks its own input's shape, then constructs SparseWeightOp(op_name, w): it checks that w.grad has
//      w.stored() entries.
//   2. UseBias(b) checks that b (when not null) is [w.rows()] and returns its data (null without b) for the
//      forward kernel.
//   3. After its forward kernel, the op returns Record(y, x, kernels): it clears w.dense_grad_rows (an accessor
//      from an earlier step must not outlive that step's activations), makes x and b the parents, names the
//      result w.name + ".out" and captures w's topology version.
//   4. The recorded backward first checks that w's topology version is the forward's and that w.grad still has
//      w.stored() entries, then: kernels.input_grad when x requires a gradient; kernels.pattern_grad unless
//      w.skip_pattern_grad; b's gradient += the row sums of d_y; and, when w.want_dense_grad, installs
//      w.dense_grad_rows, which keeps d_y and x alive, checks 0 <= row_begin <= row_end <= rows and out's shape
//      ((row_end - row_begin) x cols), then calls kernels.dense_grad_tile.
// Every error message names the op and the parameter. w (and b) must outlive the recorded graph: the backward
// holds pointers to them, not copies.
#ifndef ENGINE_OPS_SPARSE_WEIGHT_OP_H_
#define ENGINE_OPS_SPARSE_WEIGHT_OP_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "engine/autograd/parameter.h"
#include "engine/autograd/variable.h"
#include "engine/tensor/tensor.h"
#include "engine/tensor/views.h"

namespace engine {

// The op-specific parts of the backward. `w` is the weight as it is at the backward (topology already checked).
struct SparseWeightKernels {
  // d_x += dL/dx, d_x being x's gradient (shape of x). Called only when x requires a gradient.
  std::function<void(const SparseParameter& w, const Tensor& d_y, Tensor& d_x)> input_grad;
  // grad[e] += dL/dW at each stored entry e of w (w.stored() floats; BSR padding left at 0). Not called when
  // w.skip_pattern_grad.
  std::function<void(const SparseParameter& w, const Tensor& d_y, const Tensor& x, float* grad)> pattern_grad;
  // out [row_end - row_begin, w.cols()] = rows [row_begin, row_end) of the dense dL/dW (overwritten), given d_y_rows
  // (d_y's rows [row_begin, row_end) as a matrix view) and x's value. Range and out's shape are checked before.
  std::function<void(int64_t row_begin, int64_t row_end, ConstDenseView d_y_rows, const Tensor& x, DenseView out)>
      dense_grad_tile;
};

// The pieces of the backward above that an op with its own backward (the GRU's recurrence, engine/ops/gru.h) shares:
// the topology guard (throws naming `op` and w unless w's topology version is `version` and w.grad has w.stored()
// entries) and the dense-gradient accessor over a saved d_y (w.dense_grad_rows checks the range and out's shape,
// then calls tile with d_y's rows [row_begin, row_end)).
void CheckTopologyUnchanged(const std::string& op, const SparseParameter& w, uint64_t version);
using DenseGradTile = std::function<void(int64_t row_begin, int64_t row_end, ConstDenseView d_y_rows, DenseView out)>;
void InstallDenseGradRows(SparseParameter* w, std::shared_ptr<const Tensor> d_y, DenseGradTile tile);

// The dense path of a CSR weight (engine/ops/layer_kernels.h; its dense copy is CsrMatrix::ToDense): grad[e] +=
// dense_grad[row(e), col(e)] at each stored entry e. Rows split across threads.
void AddPatternEntries(const CsrMatrix& w, ConstDenseView dense_grad, float* grad);

class SparseWeightOp {
 public:
  // op_name ("SparseLinear") prefixes every error message. Checks w.grad.size() == w.stored().
  SparseWeightOp(std::string op_name, SparseParameter& w);

  // Checks b (optional) is [w.rows()]; returns b's values, or null when b is null. Call at most once.
  const float* UseBias(DenseParameter* b);

  // Records y = op(x, w, b) with the backward described in the file comment.
  Variable Record(Tensor y, const Variable& x, SparseWeightKernels kernels);

 private:
  std::string op_name_;
  SparseParameter* w_;
  DenseParameter* b_ = nullptr;
};

}  // namespace engine

#endif  // ENGINE_OPS_SPARSE_WEIGHT_OP_H_
