// Trainable parameters as the optimizer and RigL see them. A DenseParameter is a Leaf variable; a SparseParameter
// is a CSR or BSR weight holding only its stored entries (or blocks), with a gradient aligned with its values and,
// on request, a tile-by-tile accessor to the dense gradient that RigL's grow step needs. No dense shadow copy exists
// anywhere.
#ifndef ENGINE_AUTOGRAD_PARAMETER_H_
#define ENGINE_AUTOGRAD_PARAMETER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/autograd/variable.h"
#include "engine/sparse/bsr.h"
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

// A position pattern: which (row, col) cells of a grid are stored, in CSR order. For a CSR weight the grid is the
// weight itself and a position is one entry; for a BSR weight the grid is the block grid (row_blocks x col_blocks)
// and a position is one stored block. What topology code (drop, grow, history) walks, whatever the storage.
struct PatternView {
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t positions = 0;
  const int64_t* offsets = nullptr;  // rows + 1
  const int32_t* indices = nullptr;  // positions, sorted within a row
  // Position of cell (row, col), or -1 when not stored (binary search in the row).
  int64_t Find(int64_t row, int32_t col) const;
};

// A CSR matrix's own pattern.
inline PatternView PatternOf(const CsrMatrix& m) {
  return {m.rows(), m.cols(), m.nnz(), m.row_offsets().data(), m.col_indices().data()};
}

// The matrix is private: its values can be written (mutable_values), its pattern changes only through
// engine::TopologyEdit (engine/sparse/topology_edit.h), whose pass key alone unlocks weight_for_edit.
// Storage is CSR (one position per entry) or BSR (block_rows x block_cols blocks, one position per block; values
// and grad hold block_rows * block_cols floats per block, padding included and always 0). Code that does not care
// uses the storage-neutral accessors (rows, cols, stored, values, pattern...).
class SparseParameter {
 public:
  std::string name;  // dotted, e.g. "fc1.weight"
  AlignedVector<float> grad;  // stored() entries, aligned with values(); dL/dW at the stored positions
  // Set by the caller before a forward when RigL needs the dense gradient this step.
  bool want_dense_grad = false;
  // Set by the op's backward when want_dense_grad: writes rows [row_begin, row_end) of the dense gradient dL/dW
  // (rows x cols of weight) into out (out.rows == row_end - row_begin, out.cols == cols()). Valid until the
  // next forward. Compute it tile by tile; never materialise the whole dense matrix.
  std::function<void(int64_t row_begin, int64_t row_end, DenseView out)> dense_grad_rows;
  // Set by the caller when this step's pattern gradient is not needed (RigL's update iteration replaces the
  // optimizer step): the backward then skips the SDDMM that fills `grad`.
  bool skip_pattern_grad = false;
  // Set by the op's forward: whether it ran the dense kernels on a dense copy of this weight (the per-layer choice
  // of engine/ops/layer_kernels.h) rather than the sparse ones.
  bool ran_dense = false;

  SparseParameter() = default;
  SparseParameter(std::string n, CsrMatrix w) : name(std::move(n)), csr_(std::move(w)) { ZeroGrad(); }
  SparseParameter(std::string n, BsrMatrix w) : name(std::move(n)), bsr_(std::move(w)), blocked_(true) { ZeroGrad(); }
  SparseParameter(const SparseParameter&) = default;
  SparseParameter(SparseParameter&&) = default;
  // Not assignable: a parameter's pattern is replaced only through TopologyEdit::Replace.
  SparseParameter& operator=(const SparseParameter&) = delete;
  SparseParameter& operator=(SparseParameter&&) = delete;

  bool blocked() const { return blocked_; }
  // The CSR matrix (throws for a blocked parameter) and the BSR matrix (throws for a CSR one).
  const CsrMatrix& weight() const;
  const BsrMatrix& blocks() const;

  // Storage-neutral accessors.
  int64_t rows() const { return blocked_ ? bsr_.rows() : csr_.rows(); }
  int64_t cols() const { return blocked_ ? bsr_.cols() : csr_.cols(); }
  int64_t block_rows() const { return blocked_ ? bsr_.block_rows() : 1; }
  int64_t block_cols() const { return blocked_ ? bsr_.block_cols() : 1; }
  // Floats per position (1 for CSR).
  int64_t width() const { return block_rows() * block_cols(); }
  // Stored positions: entries (CSR) or blocks (BSR).
  int64_t positions() const { return blocked_ ? bsr_.nnz_blocks() : csr_.nnz(); }
  // Floats in values() and grad: positions() * width().
  int64_t stored() const { return static_cast<int64_t>(values().size()); }
  // Stored weights inside rows x cols (BSR padding excluded): the count FLOPs and densities use.
  int64_t entries() const { return blocked_ ? bsr_.entries() : csr_.nnz(); }
  double density() const { return blocked_ ? bsr_.density() : csr_.density(); }
  uint64_t topology_version() const { return blocked_ ? bsr_.topology_version() : csr_.topology_version(); }
  int64_t MemoryBytes() const { return blocked_ ? bsr_.MemoryBytes() : csr_.MemoryBytes(); }
  const AlignedVector<float>& values() const { return blocked_ ? bsr_.values() : csr_.values(); }
  // The stored values; the pattern stays. What optimizers, initialisers and checkpoint loads write.
  AlignedVector<float>& mutable_values() { return blocked_ ? bsr_.mutable_values() : csr_.mutable_values(); }
  // The stored positions over the weight (CSR) or its block grid (BSR).
  PatternView pattern() const;
  // The magnitude of each stored position: |w| (CSR), the Frobenius norm of the block (BSR).
  std::vector<float> PositionMagnitudes() const;
  // The same of a per-position buffer aligned with values() (e.g. a gradient or a saliency).
  std::vector<float> PositionNorms(const float* buffer) const;
  // A CSR copy of the weight (BSR: every in-bounds entry of every stored block), for export.
  CsrMatrix ToCsr() const;

  // For engine::TopologyEdit only (it alone can make the key).
  CsrMatrix& weight_for_edit(const TopologyEditKey&) { return csr_; }
  BsrMatrix& blocks_for_edit(const TopologyEditKey&) { return bsr_; }

  // Resizes grad to stored() and zero-fills it.
  void ZeroGrad() { grad.assign(static_cast<size_t>(stored()), 0.0f); }

 private:
  CsrMatrix csr_;
  BsrMatrix bsr_;
  bool blocked_ = false;
};

// Non-owning pointers to a model's parameters, in a stable (construction) order.
struct ParameterList {
  std::vector<DenseParameter*> dense;
  std::vector<SparseParameter*> sparse;
};

}  // namespace engine

#endif  // ENGINE_AUTOGRAD_PARAMETER_H_
