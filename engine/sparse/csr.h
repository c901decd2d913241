// CsrMatrix: compressed sparse rows, the engine's user-facing sparse weight format.
// Indices are read-only to everyone but engine::TopologyEdit (a friend, visible to //rigl and tests only); values
// are mutable. Offsets are int64 (nnz may exceed 2^31 for very large layers), column indices int32 (cols < 2^31).
// A transposed index (for each column, the positions of its nonzeros) is built lazily once per topology and
// reused by backward kernels; it is a cache keyed on topology_version(), never a second source of truth.
#ifndef ENGINE_SPARSE_CSR_H_
#define ENGINE_SPARSE_CSR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "engine/base/rng.h"
#include "engine/sparse/csr_view.h"
#include "engine/tensor/aligned.h"
#include "engine/tensor/tensor.h"
#include "engine/tensor/views.h"

namespace engine {

class TopologyEdit;

// A pass key only TopologyEdit can make: what a sparse parameter (engine/autograd/parameter.h) asks for before it
// hands out its matrix for a pattern change, so that TopologyEdit's functions are the only way to change one.
class TopologyEditKey {
 private:
  friend class TopologyEdit;
  TopologyEditKey() = default;
};

class CsrMatrix {
 public:
  // An empty rows x cols matrix (nnz = 0).
  CsrMatrix(int64_t rows = 0, int64_t cols = 0);

  // From explicit parts; runs Validate(name) and throws naming `name` and the broken invariant.
  static CsrMatrix FromParts(int64_t rows, int64_t cols, std::vector<int64_t> row_offsets,
                             std::vector<int32_t> col_indices, std::vector<float> values,
                             const std::string& name = "CsrMatrix::FromParts");
  // Stores every entry with value != 0 (or every entry when keep_zeros is true).
  static CsrMatrix FromDense(ConstDenseView dense, bool keep_zeros = false);
  // A pattern of exactly nnz positions drawn uniformly without replacement over all rows * cols positions, with
  // zero values. Memory is O(nnz + rows), never O(rows * cols) floats: distinct positions are drawn by rejection,
  // tracked in a bitmap when rows * cols <= 32 nnz and by sort-and-deduplicate otherwise. Depends only on rng.
  static CsrMatrix RandomPattern(int64_t rows, int64_t cols, int64_t nnz, Rng& rng);

  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  int64_t nnz() const { return static_cast<int64_t>(col_indices_.size()); }
  double density() const;

  const std::vector<int64_t>& row_offsets() const { return row_offsets_; }
  const std::vector<int32_t>& col_indices() const { return col_indices_; }
  const AlignedVector<float>& values() const { return values_; }
  AlignedVector<float>& mutable_values() { return values_; }

  // Increases on every topology change; caches and saved autograd state compare against it.
  uint64_t topology_version() const { return topology_version_; }

  // A kernel view. With_transpose builds (or reuses) the transposed index first.
  CsrView view(bool with_transpose = false) const;
  // Builds the transposed index if it is missing or stale. Not thread-safe; call outside parallel regions.
  void EnsureTransposeIndex() const;

  // Checks every invariant one by one; throws engine::Error naming `name`, the invariant and the offending values.
  void Validate(const std::string& name = "csr") const;

  Tensor ToDense() const;
  // Position in values of (row, col), or -1 when not stored. O(log row length).
  int64_t Find(int64_t row, int32_t col) const;

  // Approximate heap bytes held (indices, values, transposed index).
  int64_t MemoryBytes() const;

 private:
  friend class TopologyEdit;
  void InvalidateCaches() { ++topology_version_; }

  int64_t rows_ = 0;
  int64_t cols_ = 0;
  std::vector<int64_t> row_offsets_;
  std::vector<int32_t> col_indices_;
  AlignedVector<float> values_;
  uint64_t topology_version_ = 1;

  // Transposed index cache.
  mutable uint64_t t_version_ = 0;
  mutable std::vector<int64_t> t_col_offsets_;
  mutable std::vector<int64_t> t_positions_;
  mutable std::vector<int32_t> t_rows_;
};

}  // namespace engine

#endif  // ENGINE_SPARSE_CSR_H_
