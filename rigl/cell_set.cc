#include "rigl/cell_set.h"

#include <utility>

#include "engine/base/check.h"

namespace rigl {
namespace {

void CheckSorted(const std::vector<int64_t>& v, int64_t cells, const char* what) {
  for (size_t i = 0; i < v.size(); ++i) {
    ENGINE_CHECK(v[i] >= 0 && v[i] < cells, what, ": entry ", i, " is ", v[i], "; expected a cell in [0, ", cells,
                 ")");
    ENGINE_CHECK(i == 0 || v[i - 1] < v[i], what, ": entry ", i, " (", v[i], ") does not follow entry ", i - 1, " (",
                 v[i - 1], "); expected ascending, distinct cells");
  }
}

// Merges the sorted, distinct `add` into the sorted, distinct `set` in place: counts the new values first, grows `set`
// to fit them (the vector's capacity doubling makes a reallocation rare), then merges from the back, so no second
// buffer of the set's size is touched.
void MergeInto(std::vector<int64_t>* set, const std::vector<int64_t>& add) {
  std::vector<int64_t>& s = *set;
  size_t fresh = 0;
  for (size_t i = 0, j = 0; j < add.size(); ++j) {
    while (i < s.size() && s[i] < add[j]) ++i;
    fresh += static_cast<size_t>(i == s.size() || s[i] != add[j]);
  }
  if (fresh == 0) return;
  size_t i = s.size(), j = add.size(), out = s.size() + fresh;
  s.resize(out);
  while (j > 0) {
    if (i > 0 && s[i - 1] > add[j - 1]) {
      s[--out] = s[--i];
    } else {
      if (i > 0 && s[i - 1] == add[j - 1]) --i;  // already in the set: one copy
      s[--out] = add[--j];
    }
  }
}

}  // namespace

void CellSet::Assign(int64_t cells, std::vector<int64_t> sorted, const char* what) {
  ENGINE_CHECK(cells >= 0, what, ": ", cells, " cells; expected >= 0");
  CheckSorted(sorted, cells, what);
  cells_ = cells;
  count_ = static_cast<int64_t>(sorted.size());
  bitmap_ = false;
  words_.clear();
  words_.shrink_to_fit();
  list_ = std::move(sorted);
  MaybeSwitch();
}

void CellSet::Add(const std::vector<int64_t>& sorted) {
  CheckSorted(sorted, cells_, "CellSet::Add");
  if (!bitmap_) {
    MergeInto(&list_, sorted);
    count_ = static_cast<int64_t>(list_.size());
    MaybeSwitch();
    return;
  }
  int64_t fresh = 0;
  for (const int64_t c : sorted) {
    uint64_t& word = words_[static_cast<size_t>(c >> 6)];
    const uint64_t bit = uint64_t{1} << (c & 63);
    fresh += static_cast<int64_t>((word & bit) == 0);
    word |= bit;
  }
  count_ += fresh;
}

std::vector<int64_t> CellSet::Sorted() const {
  if (!bitmap_) return list_;
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(count_));
  for (size_t w = 0; w < words_.size(); ++w) {
    for (uint64_t bits = words_[w]; bits != 0; bits &= bits - 1) {
      out.push_back(static_cast<int64_t>(w * 64) + __builtin_ctzll(bits));
    }
  }
  return out;
}

void CellSet::MaybeSwitch() {
  // The list's 8 bytes a member against the bitmap's cells / 8 bytes.
  if (bitmap_ || count_ * 64 <= cells_) return;
  words_.assign(static_cast<size_t>((cells_ + 63) / 64), 0);
  for (const int64_t c : list_) words_[static_cast<size_t>(c >> 6)] |= uint64_t{1} << (c & 63);
  list_.clear();
  list_.shrink_to_fit();
  bitmap_ = true;
}

}  // namespace rigl
