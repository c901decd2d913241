// TopologyEdit (see topology_edit.h): validate everything, then merge each row's kept entries with its grown
// coordinates back into the same index and value buffers. CSR and BSR share one implementation over a "grid"
// (CSR: rows x cols of single entries; BSR: row_blocks x col_blocks of blocks, `width` floats each).
#include "engine/sparse/topology_edit.h"

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "engine/base/check.h"

namespace engine {
namespace {

// The parts of a sparse matrix an edit rewrites, seen as a grid of positions of `width` floats each.
struct Grid {
  int64_t rows = 0;  // grid rows (matrix rows, or block rows)
  int64_t cols = 0;  // grid cols (matrix cols, or block cols)
  int64_t width = 1;
  std::vector<int64_t>* offsets = nullptr;
  std::vector<int32_t>* indices = nullptr;
  AlignedVector<float>* values = nullptr;
  const char* what = "";  // "" for CSR, "block " for BSR: error messages say "block position" etc.
};

// Checks the request against the current pattern and fills map->old_to_new (-1 on dropped positions, 0
// elsewhere) and map->scratch_grow (grow, sorted by (row, col)). Reads the grid, never writes it.
void ValidateRequest(const Grid& grid, const std::vector<int64_t>& drop, const std::vector<GrowCoord>& grow,
                     PositionMap* map, const char* name) {
  ENGINE_CHECK(map != nullptr, name, ": a null PositionMap given; expected a map to receive the remap table");
  ENGINE_CHECK(drop.size() == grow.size(), name, ": ", drop.size(), " ", grid.what, "drop positions and ",
               grow.size(), " ", grid.what, "grow coordinates given; expected equal counts (nnz is conserved)");
  const int64_t nnz = static_cast<int64_t>(grid.indices->size());
  map->old_to_new.assign(nnz, 0);
  for (size_t t = 0; t < drop.size(); ++t) {
    const int64_t p = drop[t];
    ENGINE_CHECK(p >= 0 && p < nnz, name, ": ", grid.what, "drop position ", p, " given (drop[", t,
                 "]); expected 0 <= position < nnz", grid.what[0] != '\0' ? "_blocks" : "", " = ", nnz);
    ENGINE_CHECK(map->old_to_new[p] != -1, name, ": ", grid.what, "drop position ", p, " given twice (drop[", t,
                 "] repeats an earlier entry); expected unique drop positions");
    map->old_to_new[p] = -1;
  }
  const std::vector<int64_t>& offsets = *grid.offsets;
  const std::vector<int32_t>& indices = *grid.indices;
  for (size_t t = 0; t < grow.size(); ++t) {
    const GrowCoord& g = grow[t];
    ENGINE_CHECK(g.row >= 0 && g.row < grid.rows && g.col >= 0 && g.col < grid.cols, name, ": ", grid.what,
                 "grow coordinate (", g.row, ", ", g.col, ") given (grow[", t, "]); expected 0 <= row < ", grid.rows,
                 " and 0 <= col < ", grid.cols);
  }
  auto less = [](const GrowCoord& a, const GrowCoord& b) { return a.row != b.row ? a.row < b.row : a.col < b.col; };
  map->scratch_grow.assign(grow.begin(), grow.end());
  // Callers usually pass the grow set sorted already (RigL's selections come out in flat order): no sort then.
  if (!std::is_sorted(map->scratch_grow.begin(), map->scratch_grow.end(), less)) {
    std::sort(map->scratch_grow.begin(), map->scratch_grow.end(), less);
  }
  // The request's index of a coordinate, for the error messages (a linear search: error paths only).
  auto index_of = [&grow](const GrowCoord& g) {
    size_t t = 0;
    while (t < grow.size() && (grow[t].row != g.row || grow[t].col != g.col)) ++t;
    return t;
  };
  // The common case, a valid request, is checked by a branch-free merge of each row's stored columns with its grow
  // columns (whether they interleave is unpredictable); only when it finds a repeat or a stored column does the
  // walk below run, to name the first offending coordinate.
  // Rows are independent, so the threads share them (a read-only check: the same answer on any thread count).
  const GrowCoord* sorted = map->scratch_grow.data();
  const GrowCoord* sorted_end = sorted + map->scratch_grow.size();
  const int64_t* offset = offsets.data();
  const int32_t* index = indices.data();
  auto row_start = [&](int64_t r) {
    return std::lower_bound(sorted, sorted_end, r, [](const GrowCoord& g, int64_t row) { return g.row < row; });
  };
  bool suspect = false;
  const int64_t grid_rows = grid.rows;
#pragma omp parallel for schedule(static) reduction(|| : suspect) if (nnz >= (int64_t{1} << 16))
  for (int64_t r = 0; r < grid_rows; ++r) {
    const GrowCoord* b = row_start(r);
    const GrowCoord* e = row_start(r + 1);
    bool hit = false;
    for (ptrdiff_t u = 1; u < e - b; ++u) hit |= b[u].col == b[u - 1].col;
    int64_t q = offset[r];
    const int64_t q_end = offset[r + 1];
    while (q < q_end && b < e) {
      const int32_t stored = index[q], grown = b->col;
      hit |= stored == grown;
      q += static_cast<int64_t>(stored <= grown);
      b += static_cast<ptrdiff_t>(grown <= stored);
    }
    suspect = suspect || hit;
  }
  if (!suspect) return;
  // One walk along each row's stored columns beside its sorted grow coordinates.
  int64_t row = -1, p = 0, end = 0;
  for (size_t t = 0; t < map->scratch_grow.size(); ++t) {
    const GrowCoord& g = map->scratch_grow[t];
    if (t > 0) {
      const GrowCoord& a = map->scratch_grow[t - 1];
      ENGINE_CHECK(a.row != g.row || a.col != g.col, name, ": ", grid.what, "grow coordinate (", g.row, ", ", g.col,
                   ") given twice; expected unique grow coordinates");
    }
    if (g.row != row) row = g.row, p = offsets[row], end = offsets[row + 1];
    while (p < end && indices[p] < g.col) ++p;
    ENGINE_CHECK(p == end || indices[p] != g.col, name, ": ", grid.what, "grow coordinate (", g.row, ", ", g.col,
                 ") given (grow[", index_of(g), "]) is already stored at ", grid.what, "position ", p,
                 "; expected coordinates not currently stored (drop and grow sets are disjoint)");
  }
}

// Rewrites the grid in place from copies of its old contents held in the map. Cannot fail: every buffer it
// touches was sized before (the grid's by the unchanged nnz, the map's by ApplyToGrid).
void Rebuild(const Grid& grid, PositionMap* map, float grown_value) {
  const std::vector<int64_t>& old_offsets = map->scratch_offsets;
  const std::vector<int32_t>& old_indices = map->scratch_indices;
  const float* old_values = map->scratch.data();
  const std::vector<GrowCoord>& grow = map->scratch_grow;
  int64_t* offsets = grid.offsets->data();
  int32_t* indices = grid.indices->data();
  float* values = grid.values->data();
  const int64_t w = grid.width;
  int64_t q = 0;  // next new position
  size_t g = 0;   // next grow coordinate (sorted by row, then col)
  for (int64_t i = 0; i < grid.rows; ++i) {
    int64_t p = old_offsets[i];
    const int64_t p_end = old_offsets[i + 1];
    // Merge row i's kept entries (ascending col) with its grown coordinates (ascending col).
    for (;;) {
      while (p < p_end && map->old_to_new[p] == -1) ++p;  // dropped
      const bool has_old = p < p_end;
      const bool has_new = g < grow.size() && grow[g].row == i;
      if (!has_old && !has_new) break;
      if (has_old && (!has_new || old_indices[p] < grow[g].col)) {
        indices[q] = old_indices[p];
        std::memcpy(values + q * w, old_values + p * w, sizeof(float) * w);
        map->old_to_new[p] = q;
        ++p;
      } else {
        indices[q] = grow[g].col;
        std::fill(values + q * w, values + (q + 1) * w, grown_value);
        map->grown[g] = q;
        ++g;
      }
      ++q;
    }
    offsets[i + 1] = q;
  }
}

// Rebuild for single-float positions (CSR), branch-free: which entries were dropped and how a row's kept and grown
// columns interleave are both unpredictable, so each row first compacts its kept (column, position) pairs, then
// merges them with its grown columns by selects; a record that does not apply goes to a throwaway slot. Writes the
// same pattern, values and map as Rebuild.
void RebuildSingle(const Grid& grid, PositionMap* map, float grown_value) {
  const int64_t* old_offsets = map->scratch_offsets.data();
  const int32_t* old_indices = map->scratch_indices.data();
  const float* old_values = map->scratch.data();
  const GrowCoord* grow = map->scratch_grow.data();
  const size_t grow_n = map->scratch_grow.size();
  int64_t* to_new = map->old_to_new.data();
  int64_t* grown = map->grown.data();
  int64_t* offsets = grid.offsets->data();
  int32_t* indices = grid.indices->data();
  float* values = grid.values->data();
  int64_t longest = 0;
  for (int64_t i = 0; i < grid.rows; ++i) longest = std::max(longest, old_offsets[i + 1] - old_offsets[i]);
  std::vector<int32_t> kept_col(static_cast<size_t>(longest) + 1);
  std::vector<int64_t> kept_pos(static_cast<size_t>(longest) + 1);
  int64_t q = 0;
  size_t g = 0;
  for (int64_t i = 0; i < grid.rows; ++i) {
    int64_t na = 0;
    for (int64_t p = old_offsets[i]; p < old_offsets[i + 1]; ++p) {
      kept_col[na] = old_indices[p];
      kept_pos[na] = p;
      na += static_cast<int64_t>(to_new[p] != -1);
    }
    size_t g_end = g;
    while (g_end < grow_n && grow[g_end].row == i) ++g_end;
    int64_t a = 0;
    size_t b = g;
    while (a < na && b < g_end) {
      const int32_t ca = kept_col[a], cb = grow[b].col;
      const bool take_a = ca < cb;
      const int64_t pa = kept_pos[a];
      indices[q] = take_a ? ca : cb;
      values[q] = take_a ? old_values[pa] : grown_value;
      *(take_a ? to_new + pa : grown + b) = q;
      a += static_cast<int64_t>(take_a);
      b += static_cast<size_t>(!take_a);
      ++q;
    }
    for (; a < na; ++a, ++q) {
      indices[q] = kept_col[a];
      values[q] = old_values[kept_pos[a]];
      to_new[kept_pos[a]] = q;
    }
    for (; b < g_end; ++b, ++q) {
      indices[q] = grow[b].col;
      values[q] = grown_value;
      grown[b] = q;
    }
    g = g_end;
    offsets[i + 1] = q;
  }
}

void ApplyToGrid(const Grid& grid, const std::vector<int64_t>& drop, const std::vector<GrowCoord>& grow,
                 PositionMap* map, float grown_value, const char* name) {
  ValidateRequest(grid, drop, grow, map, name);
  // Copies of the old pattern and values (the only step that may allocate, and only while the map is cold).
  map->width = grid.width;
  map->scratch_offsets.assign(grid.offsets->begin(), grid.offsets->end());
  map->scratch_indices.assign(grid.indices->begin(), grid.indices->end());
  map->scratch.assign(grid.values->begin(), grid.values->end());
  map->grown.resize(grow.size());
  // --- no failure past this point ---
  if (grid.width == 1) {
    RebuildSingle(grid, map, grown_value);
  } else {
    Rebuild(grid, map, grown_value);
  }
}

}  // namespace

void PositionMap::Remap(float* buffer, float grown_value) {
  const int64_t old_n = static_cast<int64_t>(old_to_new.size()), w = width;
  scratch.assign(buffer, buffer + old_n * w);
  const int64_t* to = old_to_new.data();
  const float* from = scratch.data();
  if (w == 1) {
    // Branch-free (which positions were dropped is random): a dropped entry is written to a throwaway float. The
    // threads write disjoint new positions.
#pragma omp parallel for schedule(static) if (old_n >= (int64_t{1} << 16))
    for (int64_t p = 0; p < old_n; ++p) {
      float sink;
      float* dst = to[p] >= 0 ? buffer + to[p] : &sink;
      *dst = from[p];
    }
  } else {
    for (int64_t p = 0; p < old_n; ++p) {
      if (to[p] >= 0) std::memcpy(buffer + to[p] * w, from + p * w, sizeof(float) * w);
    }
  }
  for (int64_t q : grown) std::fill(buffer + q * w, buffer + (q + 1) * w, grown_value);
}

void TopologyEdit::Apply(CsrMatrix& matrix, const std::vector<int64_t>& drop, const std::vector<GrowCoord>& grow,
                         PositionMap* map, float grown_value, const char* name) {
  Grid grid;
  grid.rows = matrix.rows_;
  grid.cols = matrix.cols_;
  grid.offsets = &matrix.row_offsets_;
  grid.indices = &matrix.col_indices_;
  grid.values = &matrix.values_;
  ApplyToGrid(grid, drop, grow, map, grown_value, name);
  matrix.InvalidateCaches();
}

void TopologyEdit::Apply(BsrMatrix& matrix, const std::vector<int64_t>& drop, const std::vector<GrowCoord>& grow,
                         PositionMap* map, float grown_value, const char* name) {
  Grid grid;
  grid.rows = matrix.row_blocks_;
  grid.cols = matrix.col_blocks_;
  grid.width = matrix.block_size();
  grid.offsets = &matrix.block_row_offsets_;
  grid.indices = &matrix.block_col_indices_;
  grid.values = &matrix.values_;
  grid.what = "block ";
  ApplyToGrid(grid, drop, grow, map, grown_value, name);
  // Padding entries of grown blocks (outside rows x cols) are 0, as everywhere else.
  const int64_t br = matrix.block_rows_, bc = matrix.block_cols_;
  for (size_t t = 0; t < map->grown.size(); ++t) {
    const GrowCoord& g = map->scratch_grow[t];
    float* block = matrix.values_.data() + map->grown[t] * grid.width;
    for (int64_t r = 0; r < br; ++r) {
      for (int64_t c = 0; c < bc; ++c) {
        if (g.row * br + r >= matrix.rows_ || int64_t{g.col} * bc + c >= matrix.cols_) block[r * bc + c] = 0.0f;
      }
    }
  }
  matrix.RecountEntries();
  matrix.InvalidateCaches();
}

}  // namespace engine
