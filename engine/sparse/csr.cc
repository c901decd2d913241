// CsrMatrix construction, validation, conversion and the transposed index.
#include "engine/sparse/csr.h"

#include <omp.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "engine/base/check.h"

namespace engine {

CsrMatrix::CsrMatrix(int64_t rows, int64_t cols) : rows_(rows), cols_(cols) {
  ENGINE_CHECK(rows >= 0 && cols >= 0, "CsrMatrix: shape ", rows, " x ", cols, " given; expected rows >= 0, cols >= 0");
  ENGINE_CHECK(cols <= std::numeric_limits<int32_t>::max(), "CsrMatrix: cols = ", cols,
               " given; expected cols <= 2^31 - 1 (column indices are int32)");
  row_offsets_.assign(rows + 1, 0);  // after the check: rows < -1 would ask std::vector for ~2^64 entries
}

CsrMatrix CsrMatrix::FromParts(int64_t rows, int64_t cols, std::vector<int64_t> row_offsets,
                               std::vector<int32_t> col_indices, std::vector<float> values,
                               const std::string& name) {
  CsrMatrix m(rows, cols);
  m.row_offsets_ = std::move(row_offsets);
  m.col_indices_ = std::move(col_indices);
  m.values_.assign(values.begin(), values.end());
  m.Validate(name);
  return m;
}

CsrMatrix CsrMatrix::FromDense(ConstDenseView dense, bool keep_zeros) {
  CsrMatrix m(dense.rows, dense.cols);
  for (int64_t i = 0; i < dense.rows; ++i) {
    for (int64_t j = 0; j < dense.cols; ++j) {
      const float v = dense.at(i, j);
      if (keep_zeros || v != 0.0f) {
        m.col_indices_.push_back(static_cast<int32_t>(j));
        m.values_.push_back(v);
      }
    }
    m.row_offsets_[i + 1] = static_cast<int64_t>(m.col_indices_.size());
  }
  return m;
}

CsrMatrix CsrMatrix::RandomPattern(int64_t rows, int64_t cols, int64_t nnz, Rng& rng) {
  CsrMatrix m(rows, cols);
  const int64_t total = rows * cols;
  ENGINE_CHECK(nnz >= 0 && nnz <= total, "CsrMatrix::RandomPattern: nnz = ", nnz, " for a ", rows, " x ", cols,
               " matrix; expected 0 <= nnz <= rows * cols = ", total);
  // Draw the smaller of the chosen set and its complement, as distinct uniform flat positions (rejection of
  // repeats), so the result is uniform over subsets of the exact size. Memory stays O(nnz): when the matrix is not
  // too sparse (a bitmap of rows * cols bits is at most ~4 bytes per stored entry) a bitmap marks the draws; for
  // very sparse (e.g. 100k x 100k) layers the draws are sorted and deduplicated instead.
  const bool complement = nnz > total / 2;
  const int64_t want = complement ? total - nnz : nnz;
  m.col_indices_.reserve(nnz);
  auto emit = [&m, cols](int64_t flat) {
    ++m.row_offsets_[flat / cols + 1];
    m.col_indices_.push_back(static_cast<int32_t>(flat % cols));
  };
  if (total <= 32 * std::max<int64_t>(nnz, 1)) {
    std::vector<uint64_t> bits((total + 63) / 64, 0);
    for (int64_t drawn = 0; drawn < want;) {
      const int64_t flat = static_cast<int64_t>(rng.UniformInt(total));
      uint64_t& word = bits[flat >> 6];
      const uint64_t bit = uint64_t{1} << (flat & 63);
      if (word & bit) continue;
      word |= bit;
      ++drawn;
    }
    for (int64_t flat = 0; flat < total; ++flat) {
      const bool marked = (bits[flat >> 6] >> (flat & 63)) & 1;
      if (marked != complement) emit(flat);
    }
  } else {
    std::vector<int64_t> picked;
    picked.reserve(want);
    while (static_cast<int64_t>(picked.size()) < want) {
      const int64_t missing = want - static_cast<int64_t>(picked.size());
      for (int64_t t = 0; t < missing; ++t) picked.push_back(static_cast<int64_t>(rng.UniformInt(total)));
      std::sort(picked.begin(), picked.end());
      picked.erase(std::unique(picked.begin(), picked.end()), picked.end());
    }
    // Here want < total / 32, so the complement branch (nnz > total / 2) cannot occur.
    for (int64_t flat : picked) emit(flat);
  }
  for (int64_t i = 0; i < rows; ++i) m.row_offsets_[i + 1] += m.row_offsets_[i];
  m.values_.assign(nnz, 0.0f);
  return m;
}

double CsrMatrix::density() const {
  const double total = static_cast<double>(rows_) * static_cast<double>(cols_);
  return total == 0 ? 0.0 : static_cast<double>(nnz()) / total;
}

CsrView CsrMatrix::view(bool with_transpose) const {
  CsrView v;
  v.rows = rows_;
  v.cols = cols_;
  v.nnz = nnz();
  v.row_offsets = row_offsets_.data();
  v.col_indices = col_indices_.data();
  v.values = values_.data();
  if (with_transpose) {
    EnsureTransposeIndex();
    v.t_col_offsets = t_col_offsets_.data();
    v.t_positions = t_positions_.data();
    v.t_rows = t_rows_.data();
  }
  return v;
}

void CsrMatrix::EnsureTransposeIndex() const {
  if (t_version_ == topology_version_ && static_cast<int64_t>(t_col_offsets_.size()) == cols_ + 1) return;
  ENGINE_CHECK(rows_ <= std::numeric_limits<int32_t>::max(), "CsrMatrix transposed index: rows = ", rows_,
               "; expected rows <= 2^31 - 1 (the index stores row numbers as int32)");
  const int64_t n = nnz(), cols = cols_, rows = rows_;
  t_col_offsets_.assign(cols + 1, 0);
  t_positions_.resize(n);
  t_rows_.resize(n);
  // Counting sort by column, in parallel over contiguous runs of rows: each thread counts its rows' entries per
  // column, a prefix over (column, thread) gives every thread its own start in each column, and each thread then
  // scatters its rows in order, so every column lists its rows ascending whatever the thread count.
  const int team = n >= (int64_t{1} << 16) ? omp_get_max_threads() : 1;
  std::vector<std::vector<int64_t>> next(team);
  const int64_t* offsets = row_offsets_.data();
  const int32_t* indices = col_indices_.data();
  int64_t* col_offsets = t_col_offsets_.data();
  int64_t* positions = t_positions_.data();
  int32_t* row_of = t_rows_.data();
#pragma omp parallel num_threads(team)
  {
    const int t = omp_get_thread_num(), used = omp_get_num_threads();
    const int64_t r0 = rows * t / used, r1 = rows * (t + 1) / used;
    std::vector<int64_t>& mine = next[t];
    mine.assign(cols, 0);
    for (int64_t p = offsets[r0]; p < offsets[r1]; ++p) ++mine[indices[p]];
#pragma omp barrier
#pragma omp single
    {
      int64_t at = 0;
      for (int64_t j = 0; j < cols; ++j) {
        col_offsets[j] = at;
        for (int u = 0; u < used; ++u) {
          const int64_t count = next[u][j];
          next[u][j] = at;
          at += count;
        }
      }
      col_offsets[cols] = at;
    }
    for (int64_t i = r0; i < r1; ++i) {
      const int64_t end = offsets[i + 1];
      for (int64_t p = offsets[i]; p < end; ++p) {
        const int64_t q = mine[indices[p]]++;
        positions[q] = p;
        row_of[q] = static_cast<int32_t>(i);
      }
    }
  }
  t_version_ = topology_version_;
}

void CsrMatrix::Validate(const std::string& name) const {
  ENGINE_CHECK(rows_ >= 0 && cols_ >= 0, name, ": `rows >= 0 and cols >= 0` is not satisfied (rows = ", rows_,
               ", cols = ", cols_, ")");
  ENGINE_CHECK(static_cast<int64_t>(row_offsets_.size()) == rows_ + 1, name,
               ": `row_offsets.size() == rows + 1` is not satisfied (row_offsets.size() = ", row_offsets_.size(),
               ", rows = ", rows_, ")");
  ENGINE_CHECK(values_.size() == col_indices_.size(), name,
               ": `values.size() == col_indices.size()` is not satisfied (values.size() = ", values_.size(),
               ", col_indices.size() = ", col_indices_.size(), ")");
  ENGINE_CHECK(row_offsets_[0] == 0, name, ": `row_offsets[0] == 0` is not satisfied (row_offsets[0] = ",
               row_offsets_[0], ")");
  for (int64_t i = 0; i < rows_; ++i) {
    ENGINE_CHECK(row_offsets_[i] <= row_offsets_[i + 1], name,
                 ": `row_offsets[i] <= row_offsets[i + 1]` is not satisfied (i = ", i, ", row_offsets[i] = ",
                 row_offsets_[i], ", row_offsets[i + 1] = ", row_offsets_[i + 1], ")");
  }
  ENGINE_CHECK(row_offsets_[rows_] == nnz(), name, ": `row_offsets[rows] == nnz` is not satisfied (row_offsets[",
               rows_, "] = ", row_offsets_[rows_], ", nnz = ", nnz(), ")");
  for (int64_t i = 0; i < rows_; ++i) {
    for (int64_t p = row_offsets_[i]; p < row_offsets_[i + 1]; ++p) {
      const int32_t c = col_indices_[p];
      ENGINE_CHECK(c >= 0 && c < cols_, name, ": `0 <= col_indices < cols` is not satisfied (row ", i,
                   ", position ", p, ", col_indices[", p, "] = ", c, ", cols = ", cols_, ")");
      if (p > row_offsets_[i]) {
        const int32_t prev = col_indices_[p - 1];
        ENGINE_CHECK(prev != c, name, ": `col_indices unique within a row` is not satisfied (row ", i,
                     ", column ", c, " at positions ", p - 1, " and ", p, ")");
        ENGINE_CHECK(prev < c, name, ": `col_indices sorted within a row` is not satisfied (row ", i,
                     ", col_indices[", p - 1, "] = ", prev, " > col_indices[", p, "] = ", c, ")");
      }
    }
  }
}

Tensor CsrMatrix::ToDense() const {
  // Rows split across threads (the sparse layers' dense path, engine/ops/layer_kernels.h, densifies every step).
  Tensor dense = Tensor::Uninitialized({rows_, cols_});
  float* d = dense.data();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < rows_; ++i) {
    float* row = d + i * cols_;
    std::fill(row, row + cols_, 0.0f);
    for (int64_t p = row_offsets_[i]; p < row_offsets_[i + 1]; ++p) row[col_indices_[p]] = values_[p];
  }
  return dense;
}

int64_t CsrMatrix::Find(int64_t row, int32_t col) const {
  const auto begin = col_indices_.begin() + row_offsets_[row];
  const auto end = col_indices_.begin() + row_offsets_[row + 1];
  const auto it = std::lower_bound(begin, end, col);
  return (it != end && *it == col) ? static_cast<int64_t>(it - col_indices_.begin()) : -1;
}

int64_t CsrMatrix::MemoryBytes() const {
  return static_cast<int64_t>(row_offsets_.capacity() * sizeof(int64_t) + col_indices_.capacity() * sizeof(int32_t) +
                              values_.capacity() * sizeof(float) + t_col_offsets_.capacity() * sizeof(int64_t) +
                              t_positions_.capacity() * sizeof(int64_t) + t_rows_.capacity() * sizeof(int32_t));
}

}  // namespace engine
