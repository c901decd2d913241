// Drop-and-grow topology updates for one sparse layer: RigL (grow by dense-gradient magnitude), SET (random
// grow) and SNFS (grow by an EMA of the dense gradient), all at a constant nnz, all applied in place through
// engine::TopologyEdit. The dense gradient is never materialised whole: it is produced a tile of rows at a time
// through SparseParameter::dense_grad_rows and scanned with an online top-k, so an update needs O(nnz + one tile).
// What this file is not: the schedule (rigl/drop_schedule) or the per-layer densities (rigl/sparsity_distribution).
#ifndef RIGL_UPDATER_H_
#define RIGL_UPDATER_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "engine/autograd/parameter.h"
#include "engine/sparse/magnitude_scan.h"
#include "engine/sparse/topology_edit.h"
#include "engine/tensor/tensor.h"
#include "rigl/cell_set.h"

namespace rigl {

enum class GrowMode {
  kGradient,  // RigL: |dL/dW| of the current batch, via dense_grad_rows
  kRandom,    // SET: uniform over the eligible positions
  kScores,    // SNFS and friends: |score| from a caller-supplied row-tile provider (e.g. the dense-gradient EMA)
};

// Fills rows [row_begin, row_end) of a dense score matrix (rows x cols of the layer) into out.
using RowTileFn = std::function<void(int64_t row_begin, int64_t row_end, engine::DenseView out)>;

// What one layer's update did (telemetry).
struct LayerUpdateStats {
  std::string name;
  int64_t nnz = 0;
  int64_t requested = 0;  // k = int(nnz * drop_fraction)
  int64_t dropped = 0;    // positions actually removed (k minus those regrown in the same update)
  int64_t grown = 0;      // truly new positions (== dropped)
  double mean_abs_dropped = 0;    // mean |w| of the removed weights, at removal (blocks: mean Frobenius norm)
  double mean_abs_prev_grown = 0; // mean |w| now of the weights grown at this layer's previous update that survived
  int64_t ever_active = 0;        // distinct positions ever active in this layer
  double ever_active_fraction = 0;  // ever_active / (rows * cols): the in-time over-parameterisation rate
};

// The k smallest |values[p]| (ties: lower position first), returned in ascending position order.
std::vector<int64_t> LowestMagnitude(const float* values, int64_t n, int64_t k);
// MEST's drop score per stored position: |values[p]| + lambda |grad[p]| (Yuan et al. 2021), so a small weight that
// is still learning fast is kept.
std::vector<float> MestScores(const float* values, const float* grad, int64_t n, float lambda);
// SNIP's one-shot prune (RIGL.md 3.7): the n - keep stored positions of lowest saliency |grad[p] * values[p]| (not
// |grad| alone, App. M's bug 3), as LowestMagnitude returns them.
std::vector<int64_t> SnipDrops(const float* grad, const float* values, int64_t n, int64_t keep);

// Selection by 32-bit order keys (smaller is better), in O(n): a 16-bit radix histogram of the high halves, then
// one of the low halves inside the bin that holds the k-th. Returns the k-th smallest key (1 <= k <= n) and how many
// keys are strictly smaller. Magnitudes map to keys by their bits (MagnitudeKey), so no float is ever compared.
struct KeyCut {
  uint32_t key = 0;
  int64_t below = 0;
};
KeyCut KthSmallestKey(const uint32_t* keys, int64_t n, int64_t k);
// The order key of |x| and its NaN key, shared with the vectorised grow scan (engine/sparse/magnitude_scan.h).
using engine::kNanMagnitudeKey;
using engine::MagnitudeKey;

// Rows per dense-gradient tile of a layer with `cols` columns when none is asked for: about 4 Mi floats, at least
// 256 rows, at most 64 Mi floats.
int64_t DefaultTileRows(int64_t cols);

// Top-k cells (flat = row * cols + col of the pattern's grid) by |score| among cells that are NOT kept (kept =
// stored and not in `dropped`: positions, sorted ascending, as LowestMagnitude returns them), scanning tile_rows
// grid rows at a time through `scores` (which fills grid rows; 0 = DefaultTileRows), returned in ascending flat order.
// Ties on |score| go to the lower flat index; NaN scores are never chosen. The order is strict, so the result does
// not depend on the tiling or the thread count. Candidates at or above a rising floor are collected in flat order
// (per thread, then concatenated in row order) and cut back to k by KthSmallestKey whenever they reach 2k, so an
// update is O(rows x cols + k log(rows x cols / k)) and its memory one tile plus 2k candidates per thread (plus, for
// BlockNormTiles scores, its entry tile).
//
// The first pass collects only within a limit predicted from a sample of the first tile (half as many cells again as
// the k best are expected to need, so a cut is rare); if fewer than k cells lie within it (a first tile unlike the
// rest), a second pass asks `scores` for every tile again and selects without a prediction, so the result never
// depends on the prediction, only the cost does. `scores` must give the same tile each time it is asked. info, if
// given, gets the number of passes, and with fewer_ok set the scan returns fewer than k cells when fewer have a
// numeric score (otherwise that is an error).
struct GrowScanInfo {
  bool fewer_ok = false;  // in
  int passes = 0;         // out
};
// keys, if given, gets each returned cell's order key (~MagnitudeKey(score): smaller is better), for a selection
// across layers.
std::vector<int64_t> TopScoresOutsideKept(const engine::PatternView& w, const std::vector<int64_t>& dropped,
                                          int64_t k, const RowTileFn& scores, int64_t tile_rows,
                                          GrowScanInfo* info = nullptr, std::vector<uint32_t>* keys = nullptr);
inline std::vector<int64_t> TopScoresOutsideKept(const engine::CsrMatrix& w, const std::vector<int64_t>& dropped,
                                                 int64_t k, const RowTileFn& scores, int64_t tile_rows,
                                                 GrowScanInfo* info = nullptr) {
  return TopScoresOutsideKept(engine::PatternOf(w), dropped, k, scores, tile_rows, info);
}

// Block scores from entry scores: given `entries`, which fills rows of a rows x cols matrix, returns a RowTileFn
// over the block grid (ceil(rows / block_rows) x ceil(cols / block_cols)) whose cell is the Frobenius norm of the
// block's in-bounds entries (|score| each). It asks `entries` for block_rows rows per grid row, into its own tile,
// which every copy of the returned function shares: call it from one thread at a time.
RowTileFn BlockNormTiles(RowTileFn entries, int64_t rows, int64_t cols, int64_t block_rows, int64_t block_cols);

// k distinct cells drawn uniformly among those not kept, from a stream seeded by (seed, salt). O(k) memory.
std::vector<int64_t> RandomOutsideKept(const engine::PatternView& w, const std::vector<int64_t>& dropped, int64_t k,
                                       uint64_t seed, uint64_t salt);
inline std::vector<int64_t> RandomOutsideKept(const engine::CsrMatrix& w, const std::vector<int64_t>& dropped,
                                              int64_t k, uint64_t seed, uint64_t salt) {
  return RandomOutsideKept(engine::PatternOf(w), dropped, k, seed, salt);
}

// Per-layer state kept across updates (telemetry only; not needed for correctness).
struct LayerHistory {
  CellSet ever_active;               // flat cells ever active (a sorted list, or a bitmap once that is smaller)
  std::vector<int64_t> last_grown;    // flat positions grown at the previous update
};

struct UpdateOptions {
  GrowMode mode = GrowMode::kGradient;
  int64_t tile_rows = 0;      // weight rows per dense tile; 0 = DefaultTileRows (a blocked layer: that over R grid rows)
  uint64_t seed = 0;          // for kRandom
  uint64_t salt = 0;          // e.g. the step, so every update draws fresh random positions
  RowTileFn scores;           // for kScores
};

// One drop-and-grow update of layer w with the given drop fraction. For a blocked (BSR) layer every count and
// position is a block: drop the k blocks of smallest Frobenius norm, grow the k cells of the block grid whose block
// of scores (dense gradient, or options.scores) has the largest Frobenius norm. slots_remap carries every optimizer slot of w
// across the edit (kept: unchanged; new: zero). w.grad is remapped too. Layers that are fully dense are left alone.
LayerUpdateStats UpdateLayer(engine::SparseParameter& w, float drop_fraction, const UpdateOptions& options,
                             const std::function<void(engine::PositionMap&)>& slots_remap, LayerHistory* history);

// The pieces of an update, shared by UpdateLayer and the global update (rigl/methods/global_rigl.cc):
// Telemetry before an edit: name, nnz, the mean |w| now of the previous update's grown cells that survived (starting
// the history from the pattern if it is empty). magnitudes: w.PositionMagnitudes().
LayerUpdateStats BeginLayerUpdate(const engine::SparseParameter& w, const std::vector<float>& magnitudes,
                                  LayerHistory* history);
// The ever-active count and fraction after the edit (m: the layer's grid; only its shape is read).
void FinishLayerUpdate(const engine::PatternView& m, const LayerHistory* history, LayerUpdateStats* stats);
// A selection made edit-ready: a just-dropped position that is regrown simply survives (keeps its weight and
// optimizer state), so it leaves both sets. drop: stored positions, ascending; grow_flat: cells, ascending.
struct LayerEdit {
  std::vector<int64_t> drop;              // stored positions that go, ascending
  std::vector<engine::GrowCoord> grow;    // cells that arrive, in flat order
  std::vector<int64_t> grown_flat;        // the same cells as flats
  double dropped_magnitude_sum = 0;       // sum of magnitudes[p] over `drop`
};
LayerEdit ResolveRegrown(const engine::PatternView& m, const std::vector<int64_t>& drop,
                         const std::vector<int64_t>& grow_flat, const std::vector<float>& magnitudes,
                         const std::string& name);
// Adds an update's grown cells to the history (ever active; and the last grown, for the next update's telemetry).
void RecordGrowth(LayerHistory* history, std::vector<int64_t> grown_flat);

// Global ranking (RigL with drop and grow ranked across every layer at once, as global magnitude pruning ranks):
// drop the k smallest magnitudes over all layers, no layer going below its floor (fewest positions it may keep),
// then grow as many cells, the largest scores over all layers among each layer's cells outside its kept set. A
// layer's nnz moves (its drops and grows differ), the total does not. Ties: lower layer, then lower position / cell.
// Fewer than k move when the floors leave fewer than k positions to drop. Per layer, drop is ascending stored
// positions and grow_flat ascending cells, which may include just-dropped ones (see ResolveRegrown). CSR layers.
struct GlobalLayerInput {
  engine::PatternView pattern;
  const float* magnitudes = nullptr;  // one per stored position
  int64_t floor = 0;
  RowTileFn scores;                   // the grow scores (RigL: the dense gradient, dense_grad_rows)
};
struct GlobalChoice {
  std::vector<int64_t> drop;
  std::vector<int64_t> grow_flat;
};
std::vector<GlobalChoice> SelectAcrossLayers(const std::vector<GlobalLayerInput>& layers, int64_t k,
                                             int64_t tile_rows);

// Starts a history from the current pattern (flat cells of its grid: entries, or blocks for BSR).
void InitHistory(const engine::PatternView& w, LayerHistory* history);

}  // namespace rigl

#endif  // RIGL_UPDATER_H_
