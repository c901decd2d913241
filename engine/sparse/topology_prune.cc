// TopologyEdit::Prune and PositionMap::Compact: the shrinking edit used by SNIP and gradual magnitude pruning
// (storage shrinks as the model is pruned), and its opposite, TopologyEdit::Grow and PositionMap::Expand, used with
// it by global drop-and-grow (a layer's nnz moves). Declared in topology_edit.h.
#include <algorithm>
#include <utility>

#include "engine/base/check.h"
#include "engine/sparse/topology_edit.h"

namespace engine {

void TopologyEdit::Prune(CsrMatrix& m, const std::vector<int64_t>& drop, PositionMap* map, const char* name) {
  const int64_t nnz = m.nnz();
  // Validate everything first (strong guarantee).
  std::vector<uint8_t> dropped(nnz, 0);
  for (int64_t p : drop) {
    ENGINE_CHECK(p >= 0 && p < nnz, name, ": drop position ", p, " given; expected 0 <= position < nnz = ", nnz);
    ENGINE_CHECK(!dropped[p], name, ": drop position ", p, " listed twice; expected unique positions");
    dropped[p] = 1;
  }
  map->width = 1;
  map->grown.clear();
  map->old_to_new.assign(nnz, -1);
  int64_t next = 0;
  for (int64_t i = 0; i < m.rows_; ++i) {
    const int64_t begin = m.row_offsets_[i], end = m.row_offsets_[i + 1];
    m.row_offsets_[i] = next;
    for (int64_t p = begin; p < end; ++p) {
      if (dropped[p]) continue;
      map->old_to_new[p] = next;
      m.col_indices_[next] = m.col_indices_[p];  // next <= p: forward compaction never overwrites unread entries
      m.values_[next] = m.values_[p];
      ++next;
    }
  }
  m.row_offsets_[m.rows_] = next;
  m.col_indices_.resize(next);
  m.values_.resize(next);
  m.InvalidateCaches();
}

void TopologyEdit::Prune(BsrMatrix& m, const std::vector<int64_t>& drop, PositionMap* map, const char* name) {
  const int64_t n = m.nnz_blocks(), bs = m.block_size();
  std::vector<uint8_t> dropped(n, 0);
  for (int64_t p : drop) {
    ENGINE_CHECK(p >= 0 && p < n, name, ": drop block ", p, " given; expected 0 <= block < nnz_blocks = ", n);
    ENGINE_CHECK(!dropped[p], name, ": drop block ", p, " listed twice; expected unique blocks");
    dropped[p] = 1;
  }
  map->width = bs;
  map->grown.clear();
  map->old_to_new.assign(n, -1);
  int64_t next = 0;
  for (int64_t ib = 0; ib < m.row_blocks_; ++ib) {
    const int64_t begin = m.block_row_offsets_[ib], end = m.block_row_offsets_[ib + 1];
    m.block_row_offsets_[ib] = next;
    for (int64_t p = begin; p < end; ++p) {
      if (dropped[p]) continue;
      map->old_to_new[p] = next;
      m.block_col_indices_[next] = m.block_col_indices_[p];
      if (next != p) {  // next < p: the ranges are disjoint
        std::copy(m.values_.begin() + p * bs, m.values_.begin() + (p + 1) * bs, m.values_.begin() + next * bs);
      }
      ++next;
    }
  }
  m.block_row_offsets_[m.row_blocks_] = next;
  m.block_col_indices_.resize(next);
  m.values_.resize(next * bs);
  m.RecountEntries();
  m.InvalidateCaches();
}

void PositionMap::Compact(AlignedVector<float>& buffer) const {
  const size_t w = static_cast<size_t>(width);
  ENGINE_CHECK(buffer.size() == old_to_new.size() * w, "PositionMap::Compact: buffer has ", buffer.size(),
               " entries; expected the old nnz x width = ", old_to_new.size(), " x ", w);
  int64_t kept = 0;
  for (size_t p = 0; p < old_to_new.size(); ++p) {
    if (old_to_new[p] < 0) continue;
    if (static_cast<size_t>(old_to_new[p]) != p) {  // moves forward only: the ranges are disjoint
      std::copy(buffer.begin() + p * w, buffer.begin() + (p + 1) * w, buffer.begin() + old_to_new[p] * w);
    }
    ++kept;
  }
  buffer.resize(kept * w);
}

void TopologyEdit::Grow(CsrMatrix& m, const std::vector<GrowCoord>& grow, PositionMap* map, float grown_value,
                        const char* name) {
  const int64_t nnz = m.nnz();
  // Validate everything first (strong guarantee): in range, not stored, no repeats.
  std::vector<GrowCoord> sorted = grow;
  for (size_t t = 0; t < grow.size(); ++t) {
    const GrowCoord& g = grow[t];
    ENGINE_CHECK(g.row >= 0 && g.row < m.rows_ && g.col >= 0 && g.col < m.cols_, name, ": grow coordinate (", g.row,
                 ", ", g.col, ") given (grow[", t, "]); expected 0 <= row < ", m.rows_, " and 0 <= col < ", m.cols_);
    const int32_t* begin = m.col_indices_.data() + m.row_offsets_[g.row];
    const int32_t* end = m.col_indices_.data() + m.row_offsets_[g.row + 1];
    ENGINE_CHECK(!std::binary_search(begin, end, g.col), name, ": grow coordinate (", g.row, ", ", g.col,
                 ") given (grow[", t, "]) is already stored; expected a position that is not");
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const GrowCoord& a, const GrowCoord& b) { return a.row != b.row ? a.row < b.row : a.col < b.col; });
  for (size_t t = 1; t < sorted.size(); ++t) {
    ENGINE_CHECK(sorted[t].row != sorted[t - 1].row || sorted[t].col != sorted[t - 1].col, name,
                 ": grow coordinate (", sorted[t].row, ", ", sorted[t].col, ") listed twice; expected unique ones");
  }
  const int64_t new_nnz = nnz + static_cast<int64_t>(sorted.size());
  std::vector<int64_t> offsets(m.rows_ + 1, 0);
  std::vector<int32_t> indices(new_nnz);
  AlignedVector<float> values(new_nnz);
  map->width = 1;
  map->old_to_new.assign(nnz, -1);
  map->grown.clear();
  map->grown.reserve(sorted.size());
  int64_t next = 0;
  size_t g = 0;
  for (int64_t i = 0; i < m.rows_; ++i) {
    offsets[i] = next;
    int64_t p = m.row_offsets_[i];
    const int64_t end = m.row_offsets_[i + 1];
    while (p < end || (g < sorted.size() && sorted[g].row == i)) {
      const bool take_new = g < sorted.size() && sorted[g].row == i && (p == end || sorted[g].col < m.col_indices_[p]);
      if (take_new) {
        indices[next] = sorted[g++].col;
        values[next] = grown_value;
        map->grown.push_back(next);
      } else {
        indices[next] = m.col_indices_[p];
        values[next] = m.values_[p];
        map->old_to_new[p++] = next;
      }
      ++next;
    }
  }
  offsets[m.rows_] = next;
  m.row_offsets_ = std::move(offsets);
  m.col_indices_ = std::move(indices);
  m.values_ = std::move(values);
  m.InvalidateCaches();
}

void PositionMap::Expand(AlignedVector<float>& buffer, float grown_value) const {
  const size_t w = static_cast<size_t>(width), old_n = old_to_new.size();
  ENGINE_CHECK(buffer.size() == old_n * w, "PositionMap::Expand: buffer has ", buffer.size(),
               " entries; expected the old nnz x width = ", old_n, " x ", w);
  buffer.resize((old_n + grown.size()) * w);
  for (size_t p = old_n; p-- > 0;) {  // new >= old and both ascend: from the back, nothing unread is overwritten
    const size_t to = static_cast<size_t>(old_to_new[p]);
    if (to != p) std::copy(buffer.begin() + p * w, buffer.begin() + (p + 1) * w, buffer.begin() + to * w);
  }
  for (const int64_t q : grown) std::fill(buffer.begin() + q * w, buffer.begin() + (q + 1) * w, grown_value);
}

void TopologyEdit::CheckStorage(bool matches, const char* given, const char* name) {
  ENGINE_CHECK(matches, name, ": a ", given, " replacement given for a parameter stored otherwise; expected the "
               "parameter's own storage (CSR or BSR with its block shape)");
}

void TopologyEdit::Replace(BsrMatrix& target, BsrMatrix source, const char* name) {
  ENGINE_CHECK(source.rows() == target.rows() && source.cols() == target.cols() &&
                   source.block_rows() == target.block_rows() && source.block_cols() == target.block_cols(),
               name, ": replacement is ", source.rows(), " x ", source.cols(), " in ", source.block_rows(), "x",
               source.block_cols(), " blocks; expected the parameter's ", target.rows(), " x ", target.cols(), " in ",
               target.block_rows(), "x", target.block_cols(), " blocks");
  source.Validate(name);
  const uint64_t version = std::max(target.topology_version(), source.topology_version()) + 1;
  target = std::move(source);
  target.topology_version_ = version;
}

void TopologyEdit::Replace(CsrMatrix& target, CsrMatrix source, const char* name) {
  ENGINE_CHECK(source.rows() == target.rows() && source.cols() == target.cols(), name, ": replacement is ",
               source.rows(), " x ", source.cols(), "; expected the parameter's shape ", target.rows(), " x ",
               target.cols());
  source.Validate(name);
  const uint64_t version = std::max(target.topology_version(), source.topology_version()) + 1;
  target = std::move(source);
  target.topology_version_ = version;
}

}  // namespace engine
