// Trainable parameters as the optimizer and RigL see them. A DenseParameter is a Leaf variable; a SparseParameter
// is a CSR weight holding only its nonzeros, with a gradient of nnz entries aligned with values() and, on request,
// a tile-by-tile accessor to the dense gradient that RigL's grow step needs. No dense shadow copy exists anywhere.
#ifndef ENGINE_AUTOGRAD_PARAMETER_H_
#define ENGINE_AUTOGRAD_PARAMETER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/autograd/variable.h"
#include "engine/sparse/csr.h"
#include "engine/tensor/aligned.h"
#include "engine/tensor/views.h"

namespace engine {

struct DenseParameter {
  std::string name;  // dotted, e.g. "fc1.bias", "layer1.0.bn1.weight"
  Variable var;      // a Leaf; var.grad() is the parameter gradient

  DenseParameter() = default;
  DenseParameter(std::string n, Tensor value) : name(n), var(Leaf(std::move(value), n)) {}
  void ZeroGrad() { var.grad().SetZero(); }
};

// The matrix is private: its values can be written (mutable_values), its pattern changes only through
// engine::TopologyEdit (engine/sparse/topology_edit.h), whose pass key alone unlocks weight_for_edit.
class SparseParameter {
 public:
  std::string name;  // dotted, e.g. "fc1.weight"
  AlignedVector<float> grad;  // nnz entries, aligned with weight().values(); dL/dW at the stored positions
  // Set by the caller before a forward when RigL needs the dense gradient this step.
  bool want_dense_grad = false;
  // Set by the op's backward when want_dense_grad: writes rows [row_begin, row_end) of the dense gradient dL/dW
  // (rows x cols of weight) into out (out.rows == row_end - row_begin, out.cols == weight().cols()). Valid until the
  // next forward. Compute it tile by tile; never materialise the whole dense matrix.
  std::function<void(int64_t row_begin, int64_t row_end, DenseView out)> dense_grad_rows;
  // Set by the caller when this step's pattern gradient is not needed (RigL's update iteration replaces the
  // optimizer step): the backward then skips the SDDMM that fills `grad`.
  bool skip_pattern_grad = false;

  SparseParameter() = default;
  SparseParameter(std::string n, CsrMatrix w) : name(std::move(n)), weight_(std::move(w)) { ZeroGrad(); }
  SparseParameter(const SparseParameter&) = default;
  SparseParameter(SparseParameter&&) = default;
  // Not assignable: a parameter's pattern is replaced only through TopologyEdit::Replace.
  SparseParameter& operator=(const SparseParameter&) = delete;
  SparseParameter& operator=(SparseParameter&&) = delete;

  const CsrMatrix& weight() const { return weight_; }
  // The stored values, nnz of them; the pattern stays. What optimizers, initialisers and checkpoint loads write.
  AlignedVector<float>& mutable_values() { return weight_.mutable_values(); }
  // For engine::TopologyEdit only (it alone can make the key).
  CsrMatrix& weight_for_edit(const TopologyEditKey&) { return weight_; }

  // Resizes grad to nnz and zero-fills it.
  void ZeroGrad() { grad.assign(static_cast<size_t>(weight_.nnz()), 0.0f); }

 private:
  CsrMatrix weight_;
};

// Non-owning pointers to a model's parameters, in a stable (construction) order.
struct ParameterList {
  std::vector<DenseParameter*> dense;
  std::vector<SparseParameter*> sparse;
};

}  // namespace engine

#endif  // ENGINE_AUTOGRAD_PARAMETER_H_
