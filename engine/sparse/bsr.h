// BsrMatrix: block sparse rows, the packed form for weights whose pattern comes in small dense blocks
// (block_rows x block_cols, e.g. 4x1, 8x1, 1x4, 4x4). Blocked kernels reuse each loaded row of the dense operand
// block_rows times, which is what lets them approach dense GEMM efficiency. Not a second user-facing format:
// convert from/to CsrMatrix at the edges. Indices are read-only to all but engine::TopologyEdit (a friend).
//
// Padding: rows and cols need not be multiples of the block shape. The last block row / block column is padded
// (row_blocks = ceil(rows / block_rows), col_blocks = ceil(cols / block_cols)); padding entries are stored (every
// block holds block_rows * block_cols floats) but lie outside rows x cols: builders set them to 0, kernels never
// read them (they clip the last block row / column), ToDense/ToCsr ignore them.
#ifndef ENGINE_SPARSE_BSR_H_
#define ENGINE_SPARSE_BSR_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/base/rng.h"
#include "engine/sparse/csr.h"
#include "engine/tensor/aligned.h"
#include "engine/tensor/tensor.h"
#include "engine/tensor/views.h"

namespace engine {

class TopologyEdit;

// Non-owning read-only view of a BSR matrix, as consumed by kernels.
// Legend: rows x cols matrix, block_rows x block_cols blocks, row_blocks x col_blocks block grid, nnz_blocks
// stored blocks (bs = block_rows * block_cols floats each).
//   block_row_offsets   row_blocks + 1 entries, [0] = 0, [row_blocks] = nnz_blocks, non-decreasing
//   block_col_indices   nnz_blocks entries, sorted and unique within a block row, 0 <= index < col_blocks
//   values              nnz_blocks * bs floats; block p is values[p * bs, (p + 1) * bs), row-major in the block
//   entries             stored entries inside rows x cols (nnz_blocks * bs minus padding): the useful-FLOP count
// Transposed block index (optional; null when not built):
//   t_block_col_offsets col_blocks + 1 entries: block column jb's blocks are [t_block_col_offsets[jb], ...[jb+1])
//   t_block_positions   nnz_blocks entries: block positions p, ascending block row within a block column
//   t_block_rows        nnz_blocks entries: the block row of t_block_positions[q]
struct BsrView {
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t block_rows = 1;
  int64_t block_cols = 1;
  int64_t row_blocks = 0;
  int64_t col_blocks = 0;
  int64_t nnz_blocks = 0;
  int64_t entries = 0;
  const int64_t* block_row_offsets = nullptr;
  const int32_t* block_col_indices = nullptr;
  const float* values = nullptr;
  const int64_t* t_block_col_offsets = nullptr;
  const int64_t* t_block_positions = nullptr;
  const int32_t* t_block_rows = nullptr;
};

class BsrMatrix {
 public:
  // An empty rows x cols matrix with the given block shape (no stored blocks).
  BsrMatrix(int64_t rows = 0, int64_t cols = 0, int64_t block_rows = 1, int64_t block_cols = 1);

  // From explicit parts (values: nnz_blocks * block_rows * block_cols floats); runs Validate().
  static BsrMatrix FromParts(int64_t rows, int64_t cols, int64_t block_rows, int64_t block_cols,
                             std::vector<int64_t> block_row_offsets, std::vector<int32_t> block_col_indices,
                             std::vector<float> values);
  // A block is stored when any of its entries is stored in `csr` (stored zeros count); entries of a stored block
  // that are not stored in `csr` are 0.
  static BsrMatrix FromCsr(const CsrMatrix& csr, int64_t block_rows, int64_t block_cols);
  // A block is stored when any of its entries is != 0 (every block when keep_zero_blocks is true).
  static BsrMatrix FromDense(ConstDenseView dense, int64_t block_rows, int64_t block_cols,
                             bool keep_zero_blocks = false);
  // Exactly nnz_blocks stored blocks, drawn uniformly without replacement over the block grid, zero values.
  // The result depends only on rng's state.
  static BsrMatrix RandomPattern(int64_t rows, int64_t cols, int64_t block_rows, int64_t block_cols,
                                 int64_t nnz_blocks, Rng& rng);

  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  int64_t block_rows() const { return block_rows_; }
  int64_t block_cols() const { return block_cols_; }
  int64_t block_size() const { return block_rows_ * block_cols_; }
  int64_t row_blocks() const { return row_blocks_; }
  int64_t col_blocks() const { return col_blocks_; }
  int64_t nnz_blocks() const { return static_cast<int64_t>(block_col_indices_.size()); }
  // Stored entries inside rows x cols (padding excluded).
  int64_t entries() const { return entries_; }
  // entries() / (rows * cols).
  double density() const;

  const std::vector<int64_t>& block_row_offsets() const { return block_row_offsets_; }
  const std::vector<int32_t>& block_col_indices() const { return block_col_indices_; }
  const AlignedVector<float>& values() const { return values_; }
  AlignedVector<float>& mutable_values() { return values_; }

  // Sets every in-bounds entry of every stored block to draw(), in storage order (block by block, row-major in the
  // block); padding entries stay 0. Values only: the pattern does not change.
  void FillEntries(const std::function<float()>& draw);

  // Increases on every topology change; caches compare against it.
  uint64_t topology_version() const { return topology_version_; }

  // A kernel view. with_transpose builds (or reuses) the transposed block index first.
  BsrView view(bool with_transpose = false) const;
  // Builds the transposed block index if missing or stale. Not thread-safe; call outside parallel regions.
  void EnsureTransposeIndex() const;

  // Checks every invariant one by one; throws engine::Error naming `name`, the invariant and the offending values.
  // Padding values are not checked (kernels never read them): see CheckPaddingZero.
  void Validate(const std::string& name = "bsr") const;
  // Throws engine::Error naming `name` and `what` unless every padding entry of `buffer` (aligned with values():
  // nnz_blocks * block_size floats, e.g. the values or an optimizer slot read from a checkpoint) is 0, as a
  // trained parameter's are.
  void CheckPaddingZero(const float* buffer, const std::string& name, const char* what) const;

  Tensor ToDense() const;
  // Every entry of every stored block that lies inside rows x cols becomes a stored CSR entry (zeros included).
  CsrMatrix ToCsr() const;
  // Position (block index) of block (block_row, block_col), or -1 when not stored.
  int64_t FindBlock(int64_t block_row, int32_t block_col) const;

  int64_t MemoryBytes() const;

 private:
  friend class TopologyEdit;
  void InvalidateCaches() { ++topology_version_; }
  // Recomputes entries_ from the pattern (after any topology change).
  void RecountEntries();

  int64_t rows_ = 0;
  int64_t cols_ = 0;
  int64_t block_rows_ = 1;
  int64_t block_cols_ = 1;
  int64_t row_blocks_ = 0;
  int64_t col_blocks_ = 0;
  int64_t entries_ = 0;
  std::vector<int64_t> block_row_offsets_;
  std::vector<int32_t> block_col_indices_;
  AlignedVector<float> values_;
  uint64_t topology_version_ = 1;

  // Transposed block index cache.
  mutable uint64_t t_version_ = 0;
  mutable std::vector<int64_t> t_block_col_offsets_;
  mutable std::vector<int64_t> t_block_positions_;
  mutable std::vector<int32_t> t_block_rows_;
};

}  // namespace engine

#endif  // ENGINE_SPARSE_BSR_H_
