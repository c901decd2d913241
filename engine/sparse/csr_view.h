// Non-owning, read-only view of a CSR matrix plus its transposed index, as consumed by kernels.
// Legend: rows x cols matrix, nnz stored entries.
//   row_offsets   rows + 1 entries, row_offsets[0] = 0, row_offsets[rows] = nnz, non-decreasing
//   col_indices   nnz entries, sorted and unique within each row, 0 <= col < cols
//   values        nnz entries
// Transposed index (optional; null when not built):
//   t_col_offsets cols + 1 entries: column j's nonzeros are t_positions[t_col_offsets[j] .. t_col_offsets[j+1])
//   t_positions   nnz entries: positions p in values, ascending row order within a column
//   t_rows        nnz entries: the row of position t_positions[q]
#ifndef ENGINE_SPARSE_CSR_VIEW_H_
#define ENGINE_SPARSE_CSR_VIEW_H_

#include <cstdint>

namespace engine {

struct CsrView {
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t nnz = 0;
  const int64_t* row_offsets = nullptr;
  const int32_t* col_indices = nullptr;
  const float* values = nullptr;
  const int64_t* t_col_offsets = nullptr;
  const int64_t* t_positions = nullptr;
  const int32_t* t_rows = nullptr;
};

}  // namespace engine

#endif  // ENGINE_SPARSE_CSR_VIEW_H_
