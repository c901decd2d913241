// TopologyEdit: the only code allowed to change a CSR or BSR sparsity pattern (visible to //rigl, engine, tests).
// A transaction: validate the request, rebuild row_offsets / col_indices in place (reusing their buffers: no
// allocation when nnz is unchanged and the map's buffers are warm), move values to their new positions, give
// grown entries `grown_value`, bump topology_version(), and fill a PositionMap that carries gradients and every
// per-weight optimizer slot across. On any error the matrix is left exactly as it was.
#ifndef ENGINE_SPARSE_TOPOLOGY_EDIT_H_
#define ENGINE_SPARSE_TOPOLOGY_EDIT_H_

#include <cstdint>
#include <vector>

#include "engine/sparse/bsr.h"
#include "engine/sparse/csr.h"
#include "engine/tensor/aligned.h"

namespace engine {

// A coordinate to grow: (row, col) must not be stored already. Drop and grow sets must be disjoint, so a
// just-dropped position that should survive (RigL regrowing it) is simply left out of both sets.
struct GrowCoord {
  int64_t row = 0;
  int32_t col = 0;
};

// Old-to-new position map produced by an edit. For a BSR edit a "position" is a stored block and each position
// owns `width` = block_rows * block_cols consecutive floats of a per-entry buffer; for CSR width is 1.
struct PositionMap {
  std::vector<int64_t> old_to_new;  // one entry per old position: its new position, or -1 when dropped
  std::vector<int64_t> grown;       // new positions of the grown entries, ascending
  int64_t width = 1;                // floats per position in per-entry buffers
  AlignedVector<float> scratch;     // reused by Remap and Apply (a copy of the old values)

  // Reusable work buffers of Apply (kept here so a warm map makes an edit allocation-free).
  std::vector<int64_t> scratch_offsets;
  std::vector<int32_t> scratch_indices;
  std::vector<GrowCoord> scratch_grow;

  // Carries a per-position buffer (gradient, momentum, Adam moments...) across the edit in place: kept entries
  // move bit for bit, grown entries become `grown_value`. `buffer` must have old nnz * width floats (== new).
  void Remap(float* buffer, float grown_value = 0.0f);
  void Remap(AlignedVector<float>& buffer, float grown_value = 0.0f) { Remap(buffer.data(), grown_value); }
  // After a Prune: moves kept entries of `buffer` (old nnz * width floats) to their new positions and shrinks it to
  // the new nnz * width (forward compaction in place; kept entries bit for bit).
  void Compact(AlignedVector<float>& buffer) const;
  // After a Grow: moves every old entry of `buffer` (old nnz * width floats) to its new position, gives the grown
  // positions `grown_value` and enlarges it to the new nnz * width (backward expansion in place; old entries bit for
  // bit).
  void Expand(AlignedVector<float>& buffer, float grown_value = 0.0f) const;
};

class TopologyEdit {
 public:
  // Drops the stored positions `drop` (indices into values; unique, in range) and grows the coordinates `grow`
  // (unique, in range, not currently stored, and equal in count to `drop`, so nnz is conserved). Values of kept
  // entries stay bit-identical; grown entries start at grown_value. `name` labels error messages.
  // Everything is validated before anything changes: on error the matrix is untouched (map may be overwritten).
  static void Apply(CsrMatrix& matrix, const std::vector<int64_t>& drop, const std::vector<GrowCoord>& grow,
                    PositionMap* map, float grown_value = 0.0f, const char* name = "topology edit");
  // The same at block granularity: `drop` holds block positions in [0, nnz_blocks), `grow` block coordinates
  // (row = block row, col = block column). In-bounds entries of a grown block start at grown_value, its padding
  // entries at 0. map->width becomes block_rows * block_cols.
  static void Apply(BsrMatrix& matrix, const std::vector<int64_t>& drop, const std::vector<GrowCoord>& grow,
                    PositionMap* map, float grown_value = 0.0f, const char* name = "topology edit");
  // Pruning (SNIP, gradual magnitude pruning): drops the stored positions `drop` (unique, in range) and grows
  // nothing, so nnz shrinks by drop.size(). Kept values stay bit-identical and in order. map->old_to_new tells
  // where each kept position went (-1 when dropped); map->grown is empty. Per-position buffers are carried across
  // with PositionMap::Compact. Validated first: on error the matrix is untouched.
  static void Prune(CsrMatrix& matrix, const std::vector<int64_t>& drop, PositionMap* map,
                    const char* name = "prune");

  // The same at block granularity: `drop` holds block positions; whole blocks go. map->width = block size.
  static void Prune(BsrMatrix& matrix, const std::vector<int64_t>& drop, PositionMap* map,
                    const char* name = "prune");
  // The opposite of Prune (global drop-and-grow, where a layer's nnz may rise): grows the coordinates `grow` (unique,
  // in range, not stored; any order) and drops nothing, so nnz rises by grow.size(). Kept values stay bit-identical
  // and in order; grown entries start at grown_value. map->old_to_new gives every old position's new one and
  // map->grown the grown positions, ascending; per-position buffers are carried across with PositionMap::Expand.
  // Validated first: on error the matrix is untouched. CSR only.
  static void Grow(CsrMatrix& matrix, const std::vector<GrowCoord>& grow, PositionMap* map, float grown_value = 0.0f,
                   const char* name = "grow");

  // The same three on a sparse parameter (any Param with weight_for_edit / blocks_for_edit(TopologyEditKey), i.e.
  // engine::SparseParameter): the only ways to change a parameter's pattern. Positions and coordinates are entries
  // for a CSR parameter and blocks (over the block grid) for a blocked one.
  template <typename Param>
  static void Apply(Param& param, const std::vector<int64_t>& drop, const std::vector<GrowCoord>& grow,
                    PositionMap* map, float grown_value = 0.0f) {
    if (param.blocked()) {
      Apply(param.blocks_for_edit(TopologyEditKey()), drop, grow, map, grown_value, param.name.c_str());
    } else {
      Apply(param.weight_for_edit(TopologyEditKey()), drop, grow, map, grown_value, param.name.c_str());
    }
  }
  template <typename Param>
  static void Prune(Param& param, const std::vector<int64_t>& drop, PositionMap* map) {
    if (param.blocked()) {
      Prune(param.blocks_for_edit(TopologyEditKey()), drop, map, param.name.c_str());
    } else {
      Prune(param.weight_for_edit(TopologyEditKey()), drop, map, param.name.c_str());
    }
  }
  template <typename Param>
  static void Grow(Param& param, const std::vector<GrowCoord>& grow, PositionMap* map, float grown_value = 0.0f) {
    CheckStorage(!param.blocked(), "CSR grow-only edit", param.name.c_str());
    Grow(param.weight_for_edit(TopologyEditKey()), grow, map, grown_value, param.name.c_str());
  }
  // Replaces a parameter's whole matrix (checkpoint restore) by `source`, which must have the parameter's storage
  // (CSR, or BSR with the same block shape), the same shape, and pass Validate. The topology version moves past both
  // the old and the new matrix's, so nothing cached or saved against the old pattern can match the new one.
  template <typename Param>
  static void Replace(Param& param, CsrMatrix source) {
    CheckStorage(!param.blocked(), "CSR", param.name.c_str());
    Replace(param.weight_for_edit(TopologyEditKey()), std::move(source), param.name.c_str());
  }
  template <typename Param>
  static void Replace(Param& param, BsrMatrix source) {
    CheckStorage(param.blocked(), "BSR", param.name.c_str());
    Replace(param.blocks_for_edit(TopologyEditKey()), std::move(source), param.name.c_str());
  }

 private:
  static void CheckStorage(bool matches, const char* given, const char* name);
  static void Replace(CsrMatrix& target, CsrMatrix source, const char* name);
  static void Replace(BsrMatrix& target, BsrMatrix source, const char* name);
};

}  // namespace engine

#endif  // ENGINE_SPARSE_TOPOLOGY_EDIT_H_
