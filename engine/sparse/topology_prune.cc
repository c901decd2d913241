// TopologyEdit::Prune and PositionMap::Compact: the shrinking edit used by SNIP and gradual magnitude pruning
// (storage shrinks as the model is pruned). Declared in topology_edit.h.
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
