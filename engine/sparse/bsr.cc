// BsrMatrix construction, validation, conversion and the transposed block index.
#include "engine/sparse/bsr.h"

#include <algorithm>
#include <limits>

#include "engine/base/check.h"

namespace engine {
namespace {

// Calls f(e, p, r, c, inside) for every entry of every stored block in storage order: e the index into the values,
// p the block, (r, c) the entry within it, inside whether it lies inside rows x cols (else it is padding).
template <typename F>
void ForEachStoredEntry(const BsrMatrix& m, F&& f) {
  const int64_t br = m.block_rows(), bc = m.block_cols(), bs = br * bc;
  const std::vector<int64_t>& offsets = m.block_row_offsets();
  const std::vector<int32_t>& indices = m.block_col_indices();
  for (int64_t ib = 0; ib < m.row_blocks(); ++ib) {
    for (int64_t p = offsets[ib]; p < offsets[ib + 1]; ++p) {
      for (int64_t r = 0; r < br; ++r) {
        for (int64_t c = 0; c < bc; ++c) {
          f(p * bs + r * bc + c, p, r, c, ib * br + r < m.rows() && indices[p] * bc + c < m.cols());
        }
      }
    }
  }
}

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

BsrMatrix::BsrMatrix(int64_t rows, int64_t cols, int64_t block_rows, int64_t block_cols)
    : rows_(rows), cols_(cols), block_rows_(block_rows), block_cols_(block_cols) {
  ENGINE_CHECK(rows >= 0 && cols >= 0, "BsrMatrix: shape ", rows, " x ", cols,
               " given; expected rows >= 0, cols >= 0");
  ENGINE_CHECK(block_rows >= 1 && block_cols >= 1, "BsrMatrix: block shape ", block_rows, " x ", block_cols,
               " given; expected block_rows >= 1, block_cols >= 1");
  ENGINE_CHECK(cols <= std::numeric_limits<int32_t>::max(), "BsrMatrix: cols = ", cols,
               " given; expected cols <= 2^31 - 1");
  row_blocks_ = CeilDiv(rows, block_rows);
  col_blocks_ = CeilDiv(cols, block_cols);
  block_row_offsets_.assign(row_blocks_ + 1, 0);
}

BsrMatrix BsrMatrix::FromParts(int64_t rows, int64_t cols, int64_t block_rows, int64_t block_cols,
                               std::vector<int64_t> block_row_offsets, std::vector<int32_t> block_col_indices,
                               std::vector<float> values) {
  BsrMatrix m(rows, cols, block_rows, block_cols);
  m.block_row_offsets_ = std::move(block_row_offsets);
  m.block_col_indices_ = std::move(block_col_indices);
  m.values_.assign(values.begin(), values.end());
  m.Validate("BsrMatrix::FromParts");
  m.RecountEntries();
  return m;
}

BsrMatrix BsrMatrix::FromCsr(const CsrMatrix& csr, int64_t block_rows, int64_t block_cols) {
  BsrMatrix m(csr.rows(), csr.cols(), block_rows, block_cols);
  const int64_t br = block_rows, bc = block_cols, bs = br * bc;
  const auto& offsets = csr.row_offsets();
  const auto& cols = csr.col_indices();
  const auto& vals = csr.values();
  // slot[jb] = position of block column jb within the current block row, or -1 (reset after each block row).
  std::vector<int64_t> slot(m.col_blocks_, -1);
  std::vector<int32_t> row_cols;
  for (int64_t ib = 0; ib < m.row_blocks_; ++ib) {
    const int64_t r0 = ib * br, r1 = std::min(r0 + br, m.rows_);
    row_cols.clear();
    for (int64_t i = r0; i < r1; ++i) {
      for (int64_t p = offsets[i]; p < offsets[i + 1]; ++p) {
        const int32_t jb = static_cast<int32_t>(cols[p] / bc);
        if (slot[jb] < 0) {
          slot[jb] = 0;
          row_cols.push_back(jb);
        }
      }
    }
    std::sort(row_cols.begin(), row_cols.end());
    const int64_t first = static_cast<int64_t>(m.block_col_indices_.size());
    for (size_t t = 0; t < row_cols.size(); ++t) {
      slot[row_cols[t]] = first + static_cast<int64_t>(t);
      m.block_col_indices_.push_back(row_cols[t]);
    }
    m.values_.resize(m.block_col_indices_.size() * bs, 0.0f);
    for (int64_t i = r0; i < r1; ++i) {
      for (int64_t p = offsets[i]; p < offsets[i + 1]; ++p) {
        const int64_t jb = cols[p] / bc;
        m.values_[slot[jb] * bs + (i - r0) * bc + (cols[p] - jb * bc)] = vals[p];
      }
    }
    for (int32_t jb : row_cols) slot[jb] = -1;
    m.block_row_offsets_[ib + 1] = static_cast<int64_t>(m.block_col_indices_.size());
  }
  m.RecountEntries();
  return m;
}

BsrMatrix BsrMatrix::FromDense(ConstDenseView dense, int64_t block_rows, int64_t block_cols,
                               bool keep_zero_blocks) {
  return FromCsr(CsrMatrix::FromDense(dense, keep_zero_blocks), block_rows, block_cols);
}

BsrMatrix BsrMatrix::RandomPattern(int64_t rows, int64_t cols, int64_t block_rows, int64_t block_cols,
                                   int64_t nnz_blocks, Rng& rng) {
  BsrMatrix m(rows, cols, block_rows, block_cols);
  const int64_t total = m.row_blocks_ * m.col_blocks_;
  ENGINE_CHECK(nnz_blocks >= 0 && nnz_blocks <= total, "BsrMatrix::RandomPattern: nnz_blocks = ", nnz_blocks,
               " for a ", m.row_blocks_, " x ", m.col_blocks_, " block grid; expected 0 <= nnz_blocks <= ", total);
  // The block grid is itself a CSR pattern: draw it uniformly with the CSR sampler.
  const CsrMatrix grid = CsrMatrix::RandomPattern(m.row_blocks_, m.col_blocks_, nnz_blocks, rng);
  m.block_row_offsets_ = grid.row_offsets();
  m.block_col_indices_ = grid.col_indices();
  m.values_.assign(nnz_blocks * m.block_size(), 0.0f);
  m.RecountEntries();
  return m;
}

void BsrMatrix::RecountEntries() {
  const int64_t br = block_rows_, bc = block_cols_;
  const int64_t row_pad = row_blocks_ * br - rows_;  // padded rows in the last block row
  const int64_t col_pad = col_blocks_ * bc - cols_;  // padded cols in the last block column
  int64_t count = nnz_blocks() * br * bc;
  if (row_pad > 0) count -= (block_row_offsets_[row_blocks_] - block_row_offsets_[row_blocks_ - 1]) * row_pad * bc;
  if (col_pad > 0) {
    for (int64_t ib = 0; ib < row_blocks_; ++ib) {
      const int64_t end = block_row_offsets_[ib + 1];
      // Sorted block columns: a block in the last block column is the row's last block.
      if (end > block_row_offsets_[ib] && block_col_indices_[end - 1] == col_blocks_ - 1) {
        const int64_t rows_in = std::min(br, rows_ - ib * br);
        count -= rows_in * col_pad;
      }
    }
  }
  entries_ = count;
}

double BsrMatrix::density() const {
  const double total = static_cast<double>(rows_) * static_cast<double>(cols_);
  return total == 0 ? 0.0 : static_cast<double>(entries_) / total;
}

BsrView BsrMatrix::view(bool with_transpose) const {
  BsrView v;
  v.rows = rows_;
  v.cols = cols_;
  v.block_rows = block_rows_;
  v.block_cols = block_cols_;
  v.row_blocks = row_blocks_;
  v.col_blocks = col_blocks_;
  v.nnz_blocks = nnz_blocks();
  v.entries = entries_;
  v.block_row_offsets = block_row_offsets_.data();
  v.block_col_indices = block_col_indices_.data();
  v.values = values_.data();
  if (with_transpose) {
    EnsureTransposeIndex();
    v.t_block_col_offsets = t_block_col_offsets_.data();
    v.t_block_positions = t_block_positions_.data();
    v.t_block_rows = t_block_rows_.data();
  }
  return v;
}

void BsrMatrix::EnsureTransposeIndex() const {
  if (t_version_ == topology_version_ && static_cast<int64_t>(t_block_col_offsets_.size()) == col_blocks_ + 1) {
    return;
  }
  const int64_t nb = nnz_blocks();
  t_block_col_offsets_.assign(col_blocks_ + 1, 0);
  t_block_positions_.resize(nb);
  t_block_rows_.resize(nb);
  for (int64_t p = 0; p < nb; ++p) ++t_block_col_offsets_[block_col_indices_[p] + 1];
  for (int64_t jb = 0; jb < col_blocks_; ++jb) t_block_col_offsets_[jb + 1] += t_block_col_offsets_[jb];
  // Counting sort by block column, visiting block rows in order: each block column lists its block rows ascending.
  std::vector<int64_t> next(t_block_col_offsets_.begin(), t_block_col_offsets_.end() - 1);
  for (int64_t ib = 0; ib < row_blocks_; ++ib) {
    for (int64_t p = block_row_offsets_[ib]; p < block_row_offsets_[ib + 1]; ++p) {
      const int64_t q = next[block_col_indices_[p]]++;
      t_block_positions_[q] = p;
      t_block_rows_[q] = static_cast<int32_t>(ib);
    }
  }
  t_version_ = topology_version_;
}

void BsrMatrix::Validate(const std::string& name) const {
  ENGINE_CHECK(rows_ >= 0 && cols_ >= 0, name, ": `rows >= 0 and cols >= 0` is not satisfied (rows = ", rows_,
               ", cols = ", cols_, ")");
  ENGINE_CHECK(block_rows_ >= 1 && block_cols_ >= 1, name,
               ": `block_rows >= 1 and block_cols >= 1` is not satisfied (block_rows = ", block_rows_,
               ", block_cols = ", block_cols_, ")");
  ENGINE_CHECK(static_cast<int64_t>(block_row_offsets_.size()) == row_blocks_ + 1, name,
               ": `block_row_offsets.size() == row_blocks + 1` is not satisfied (block_row_offsets.size() = ",
               block_row_offsets_.size(), ", row_blocks = ceil(", rows_, " / ", block_rows_, ") = ", row_blocks_,
               ")");
  ENGINE_CHECK(values_.size() == block_col_indices_.size() * static_cast<size_t>(block_size()), name,
               ": `values.size() == nnz_blocks * block_rows * block_cols` is not satisfied (values.size() = ",
               values_.size(), ", nnz_blocks = ", block_col_indices_.size(), ", block ", block_rows_, " x ",
               block_cols_, ")");
  ENGINE_CHECK(block_row_offsets_[0] == 0, name,
               ": `block_row_offsets[0] == 0` is not satisfied (block_row_offsets[0] = ", block_row_offsets_[0],
               ")");
  for (int64_t ib = 0; ib < row_blocks_; ++ib) {
    ENGINE_CHECK(block_row_offsets_[ib] <= block_row_offsets_[ib + 1], name,
                 ": `block_row_offsets[ib] <= block_row_offsets[ib + 1]` is not satisfied (ib = ", ib,
                 ", block_row_offsets[ib] = ", block_row_offsets_[ib], ", block_row_offsets[ib + 1] = ",
                 block_row_offsets_[ib + 1], ")");
  }
  ENGINE_CHECK(block_row_offsets_[row_blocks_] == nnz_blocks(), name,
               ": `block_row_offsets[row_blocks] == nnz_blocks` is not satisfied (block_row_offsets[", row_blocks_,
               "] = ", block_row_offsets_[row_blocks_], ", nnz_blocks = ", nnz_blocks(), ")");
  for (int64_t ib = 0; ib < row_blocks_; ++ib) {
    for (int64_t p = block_row_offsets_[ib]; p < block_row_offsets_[ib + 1]; ++p) {
      const int32_t jb = block_col_indices_[p];
      ENGINE_CHECK(jb >= 0 && jb < col_blocks_, name,
                   ": `0 <= block_col_indices < col_blocks` is not satisfied (block row ", ib, ", position ", p,
                   ", block_col_indices[", p, "] = ", jb, ", col_blocks = ", col_blocks_, ")");
      if (p > block_row_offsets_[ib]) {
        const int32_t prev = block_col_indices_[p - 1];
        ENGINE_CHECK(prev != jb, name, ": `block_col_indices unique within a block row` is not satisfied (block row ",
                     ib, ", block column ", jb, " at positions ", p - 1, " and ", p, ")");
        ENGINE_CHECK(prev < jb, name, ": `block_col_indices sorted within a block row` is not satisfied (block row ",
                     ib, ", block_col_indices[", p - 1, "] = ", prev, " > block_col_indices[", p, "] = ", jb, ")");
      }
    }
  }
}

void BsrMatrix::CheckPaddingZero(const float* buffer, const std::string& name, const char* what) const {
  if (rows_ % block_rows_ == 0 && cols_ % block_cols_ == 0) return;  // no padding anywhere
  ForEachStoredEntry(*this, [&](int64_t e, int64_t p, int64_t r, int64_t c, bool inside) {
    ENGINE_CHECK(inside || buffer[e] == 0.0f, name, ": `padding entries are 0` is not satisfied (", what, " of block ",
                 p, ", entry (", r, ", ", c, ") lies outside ", rows_, " x ", cols_, " and holds ", buffer[e], ")");
  });
}

Tensor BsrMatrix::ToDense() const {
  Tensor dense({rows_, cols_});
  const int64_t br = block_rows_, bc = block_cols_, bs = block_size();
  for (int64_t ib = 0; ib < row_blocks_; ++ib) {
    for (int64_t p = block_row_offsets_[ib]; p < block_row_offsets_[ib + 1]; ++p) {
      const int64_t j0 = int64_t{block_col_indices_[p]} * bc;
      for (int64_t r = 0; r < br && ib * br + r < rows_; ++r) {
        for (int64_t c = 0; c < bc && j0 + c < cols_; ++c) {
          dense[(ib * br + r) * cols_ + j0 + c] = values_[p * bs + r * bc + c];
        }
      }
    }
  }
  return dense;
}

void BsrMatrix::FillEntries(const std::function<float()>& draw) {
  float* values = values_.data();
  ForEachStoredEntry(*this, [&](int64_t e, int64_t, int64_t, int64_t, bool inside) {
    values[e] = inside ? draw() : 0.0f;
  });
}

CsrMatrix BsrMatrix::ToCsr() const {
  const int64_t br = block_rows_, bc = block_cols_, bs = block_size();
  std::vector<int64_t> offsets(rows_ + 1, 0);
  std::vector<int32_t> cols;
  std::vector<float> vals;
  cols.reserve(entries_);
  vals.reserve(entries_);
  for (int64_t i = 0; i < rows_; ++i) {
    const int64_t ib = i / br, r = i - ib * br;
    for (int64_t p = block_row_offsets_[ib]; p < block_row_offsets_[ib + 1]; ++p) {
      const int64_t j0 = int64_t{block_col_indices_[p]} * bc;
      for (int64_t c = 0; c < bc && j0 + c < cols_; ++c) {
        cols.push_back(static_cast<int32_t>(j0 + c));
        vals.push_back(values_[p * bs + r * bc + c]);
      }
    }
    offsets[i + 1] = static_cast<int64_t>(cols.size());
  }
  return CsrMatrix::FromParts(rows_, cols_, std::move(offsets), std::move(cols), std::move(vals));
}

int64_t BsrMatrix::FindBlock(int64_t block_row, int32_t block_col) const {
  const auto begin = block_col_indices_.begin() + block_row_offsets_[block_row];
  const auto end = block_col_indices_.begin() + block_row_offsets_[block_row + 1];
  const auto it = std::lower_bound(begin, end, block_col);
  return (it != end && *it == block_col) ? static_cast<int64_t>(it - block_col_indices_.begin()) : -1;
}

int64_t BsrMatrix::MemoryBytes() const {
  return static_cast<int64_t>(
      block_row_offsets_.capacity() * sizeof(int64_t) + block_col_indices_.capacity() * sizeof(int32_t) +
      values_.capacity() * sizeof(float) + t_block_col_offsets_.capacity() * sizeof(int64_t) +
      t_block_positions_.capacity() * sizeof(int64_t) + t_block_rows_.capacity() * sizeof(int32_t));
}

}  // namespace engine
