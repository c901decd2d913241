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

struct SparseParameter {
  std::string name;  // dotted, e.g. "fc1.weight"
  CsrMatrix weight;
  AlignedVector<float> grad;  // nnz entries, aligned with weight.values(); dL/dW at the stored positions
  // Set by the caller before a forward when RigL needs the dense gradient this step.
  bool want_dense_grad = false;
  // Set by the op's backward when want_dense_grad: writes rows [row_begin, row_end) of the dense gradient dL/dW
  // (rows x cols of weight) into out (out.rows == row_end - row_begin, out.cols == weight.cols()). Valid until the
  // next forward. Compute it tile by tile; never materialise the whole dense matrix.
  std::function<void(int64_t row_begin, int64_t row_end, DenseView out)> dense_grad_rows;
  // Set by the caller when this step's pattern gradient is not needed (RigL's update iteration replaces the
  // optimizer step): the backward then skips the SDDMM that fills `grad`.
  bool skip_pattern_grad = false;

  SparseParameter() = default;
  SparseParameter(std::string n, CsrMatrix w) : name(std::move(n)), weight(std::move(w)) { ZeroGrad(); }
  // Resizes grad to nnz and zero-fills it.
  void ZeroGrad() { grad.assign(static_cast<size_t>(weight.nnz()), 0.0f); }
};

// Non-owning pointers to a model's parameters, in a stable (construction) order.
struct ParameterList {
  std::vector<DenseParameter*> dense;
  std::vector<SparseParameter*> sparse;
};

}  // namespace engine

#endif  // ENGINE_AUTOGRAD_PARAMETER_H_
