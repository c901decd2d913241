// SparseParameter's storage-neutral helpers (see parameter.h).
#include "engine/autograd/parameter.h"

#include <algorithm>
#include <cmath>

#include "engine/base/check.h"

namespace engine {

int64_t PatternView::Find(int64_t row, int32_t col) const {
  if (row < 0 || row >= rows) return -1;
  const int32_t* begin = indices + offsets[row];
  const int32_t* end = indices + offsets[row + 1];
  const int32_t* it = std::lower_bound(begin, end, col);
  return it != end && *it == col ? it - indices : -1;
}

const CsrMatrix& SparseParameter::weight() const {
  ENGINE_CHECK(!blocked_, name, ": weight() asks for a CSR matrix but the parameter is stored as ",
               bsr_.block_rows(), "x", bsr_.block_cols(), " blocks (BSR); expected blocks() or the storage-neutral "
               "accessors");
  return csr_;
}

const BsrMatrix& SparseParameter::blocks() const {
  ENGINE_CHECK(blocked_, name, ": blocks() asks for a BSR matrix but the parameter is stored as CSR");
  return bsr_;
}

PatternView SparseParameter::pattern() const {
  if (blocked_) {
    return {bsr_.row_blocks(), bsr_.col_blocks(), bsr_.nnz_blocks(), bsr_.block_row_offsets().data(),
            bsr_.block_col_indices().data()};
  }
  return PatternOf(csr_);
}

std::vector<float> SparseParameter::PositionNorms(const float* buffer) const {
  const int64_t n = positions(), w = width();
  std::vector<float> out(static_cast<size_t>(n));
  if (w == 1) {
    for (int64_t p = 0; p < n; ++p) out[p] = std::fabs(buffer[p]);
    return out;
  }
  // Frobenius norm in double (padding entries are 0 and add nothing), rounded once to float.
  for (int64_t p = 0; p < n; ++p) {
    double sum = 0;
    for (int64_t e = 0; e < w; ++e) sum += static_cast<double>(buffer[p * w + e]) * buffer[p * w + e];
    out[p] = static_cast<float>(std::sqrt(sum));
  }
  return out;
}

std::vector<float> SparseParameter::PositionMagnitudes() const { return PositionNorms(values().data()); }

CsrMatrix SparseParameter::ToCsr() const { return blocked_ ? bsr_.ToCsr() : csr_; }

}  // namespace engine
