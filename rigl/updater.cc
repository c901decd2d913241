// Drop-and-grow updates (see updater.h).
#include "rigl/updater.h"

#include "rigl/drop_schedule.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "engine/base/check.h"
#include "engine/base/rng.h"

namespace rigl {
namespace {

// a is better than b: larger score, then smaller flat index.
inline bool Better(const std::pair<float, int64_t>& a, const std::pair<float, int64_t>& b) {
  return a.first > b.first || (a.first == b.first && a.second < b.second);
}

// Marks, for a sorted `dropped` list, whether position p is dropped (two-pointer walk helper).
class DroppedCursor {
 public:
  explicit DroppedCursor(const std::vector<int64_t>& dropped) : dropped_(dropped) {}
  // Positions must be queried in ascending order.
  bool IsDropped(int64_t p) {
    while (next_ < dropped_.size() && dropped_[next_] < p) ++next_;
    return next_ < dropped_.size() && dropped_[next_] == p;
  }
  void SeekTo(int64_t p) {
    next_ = static_cast<size_t>(std::lower_bound(dropped_.begin(), dropped_.end(), p) - dropped_.begin());
  }

 private:
  const std::vector<int64_t>& dropped_;
  size_t next_ = 0;
};

}  // namespace

std::vector<int64_t> LowestMagnitude(const float* values, int64_t n, int64_t k) {
  ENGINE_CHECK(k >= 0 && k <= n, "LowestMagnitude: k = ", k, " of ", n, " values; expected 0 <= k <= n");
  std::vector<std::pair<float, int64_t>> keyed(n);
  for (int64_t p = 0; p < n; ++p) keyed[p] = {std::fabs(values[p]), p};
  auto smaller = [](const std::pair<float, int64_t>& a, const std::pair<float, int64_t>& b) {
    return a.first < b.first || (a.first == b.first && a.second < b.second);
  };
  if (k < n) std::nth_element(keyed.begin(), keyed.begin() + k, keyed.end(), smaller);
  std::vector<int64_t> out(k);
  for (int64_t i = 0; i < k; ++i) out[i] = keyed[i].second;
  std::sort(out.begin(), out.end());
  return out;
}

void TopK::Shrink() {
  if (static_cast<int64_t>(buffer_.size()) <= k_) return;
  std::nth_element(buffer_.begin(), buffer_.begin() + (k_ - 1), buffer_.end(), Better);
  buffer_.resize(k_);
  // Every entry before position k-1 is at least as good as it, so it is the k-th best: anything scoring below it
  // can never enter. (Ties on the score pass the floor and are settled by the next selection.)
  floor_ = buffer_[k_ - 1].first;
}

void TopK::Merge(const TopK& other) {
  for (const auto& e : other.buffer_) Offer(e.first, e.second);
}

std::vector<std::pair<float, int64_t>> TopK::TakeSortedByIndex() {
  if (k_ > 0) Shrink();
  std::vector<std::pair<float, int64_t>> out = std::move(buffer_);
  buffer_.clear();
  floor_ = -std::numeric_limits<float>::infinity();
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  return out;
}

int64_t DefaultTileRows(int64_t cols) {
  // About 4 Mi floats a tile, but at least 256 rows (each tile's GEMM repacks the whole input x, so thin tiles
  // spend as long packing as multiplying: measured 19% packing vs 23% multiply at 41 rows x 100000 cols), and
  // never more than 64 Mi floats. Memory stays O(tile), never O(rows x cols).
  const int64_t c = std::max<int64_t>(cols, 1);
  return std::min(std::max<int64_t>((int64_t{4} << 20) / c, 256), std::max<int64_t>(1, (int64_t{64} << 20) / c));
}

std::vector<int64_t> TopScoresOutsideKept(const engine::PatternView& w, const std::vector<int64_t>& dropped,
                                          int64_t k, const RowTileFn& scores, int64_t tile_rows) {
  const int64_t rows = w.rows, cols = w.cols;
  ENGINE_CHECK(static_cast<bool>(scores), "rigl grow: no score source (dense_grad_rows not set: was the layer's "
                                          "want_dense_grad flag on during the backward pass?)");
  if (tile_rows <= 0) tile_rows = DefaultTileRows(cols);
  tile_rows = std::min(tile_rows, std::max<int64_t>(rows, 1));
  engine::Tensor tile({tile_rows, cols});
  const int threads = omp_get_max_threads();
  std::vector<TopK> partial(threads, TopK(k));
  const int64_t* offsets = w.offsets;
  const int32_t* col_indices = w.indices;
  // Kept positions are overwritten with NaN, which Offer never accepts (a finite mark such as -1 could collide with a
  // real gradient value of exactly -1).
  const float kKept = std::numeric_limits<float>::quiet_NaN();
  for (int64_t r0 = 0; r0 < rows; r0 += tile_rows) {
    const int64_t r1 = std::min(rows, r0 + tile_rows);
    engine::DenseView out{tile.data(), r1 - r0, cols, cols};
    scores(r0, r1, out);
#pragma omp parallel
    {
      TopK& mine = partial[omp_get_thread_num()];
#pragma omp for schedule(static)
      for (int64_t i = r0; i < r1; ++i) {
        float* row = out.row(i - r0);
        DroppedCursor cursor(dropped);
        cursor.SeekTo(offsets[i]);
        for (int64_t p = offsets[i]; p < offsets[i + 1]; ++p) {
          if (!cursor.IsDropped(p)) row[col_indices[p]] = kKept;  // kept connections are never grown
        }
        // NaN scores (kept marks, or a non-finite gradient) never win: Offer rejects them.
        const int64_t base = i * cols;
        for (int64_t j = 0; j < cols; ++j) mine.Offer(std::fabs(row[j]), base + j);
      }
    }
  }
  TopK all(k);
  for (const TopK& t : partial) all.Merge(t);
  std::vector<int64_t> flat;
  flat.reserve(k);
  for (const auto& e : all.TakeSortedByIndex()) flat.push_back(e.second);
  ENGINE_CHECK(static_cast<int64_t>(flat.size()) == k, "rigl grow: found ", flat.size(), " eligible positions; expected ",
               k, " (layer too dense for the drop fraction?)");
  return flat;
}

RowTileFn BlockNormTiles(RowTileFn entries, int64_t rows, int64_t cols, int64_t block_rows, int64_t block_cols) {
  ENGINE_CHECK(static_cast<bool>(entries), "rigl block grow: no score source (dense_grad_rows not set: was the "
                                           "layer's want_dense_grad flag on during the backward pass?)");
  auto tile = std::make_shared<engine::Tensor>();
  return [entries = std::move(entries), tile, rows, cols, block_rows, block_cols](int64_t rb0, int64_t rb1,
                                                                                  engine::DenseView out) {
    const int64_t r0 = rb0 * block_rows, r1 = std::min(rows, rb1 * block_rows);
    if (r1 <= r0) return;
    if (tile->rank() != 2 || tile->dim(0) < r1 - r0 || tile->dim(1) != cols) *tile = engine::Tensor({r1 - r0, cols});
    const engine::DenseView e{tile->data(), r1 - r0, cols, cols};
    entries(r0, r1, e);
#pragma omp parallel for schedule(static)
    for (int64_t ib = rb0; ib < rb1; ++ib) {
      float* cell = out.row(ib - rb0);
      const int64_t i0 = ib * block_rows - r0, i1 = std::min(r1, (ib + 1) * block_rows) - r0;
      for (int64_t jb = 0; jb < out.cols; ++jb) {
        const int64_t j0 = jb * block_cols, j1 = std::min(cols, j0 + block_cols);
        double sum = 0;
        for (int64_t i = i0; i < i1; ++i) {
          for (int64_t j = j0; j < j1; ++j) sum += static_cast<double>(e.row(i)[j]) * e.row(i)[j];
        }
        cell[jb] = static_cast<float>(std::sqrt(sum));
      }
    }
  };
}

std::vector<int64_t> RandomOutsideKept(const engine::PatternView& w, const std::vector<int64_t>& dropped, int64_t k,
                                       uint64_t seed, uint64_t salt) {
  const int64_t total = w.rows * w.cols;
  const int64_t eligible = total - (w.positions - static_cast<int64_t>(dropped.size()));
  ENGINE_CHECK(k <= eligible, "rigl random grow: k = ", k, " but only ", eligible, " positions are eligible");
  engine::Rng rng = engine::Rng::Stream(seed, salt);
  std::vector<int64_t> chosen;
  chosen.reserve(k);
  // Rejection sampling: draw, reject kept positions, deduplicate, top up. Uniform over eligible subsets of size k.
  while (static_cast<int64_t>(chosen.size()) < k) {
    const int64_t missing = k - static_cast<int64_t>(chosen.size());
    for (int64_t t = 0; t < missing; ++t) {
      const int64_t flat = static_cast<int64_t>(rng.UniformInt(total));
      const int64_t p = w.Find(flat / w.cols, static_cast<int32_t>(flat % w.cols));
      const bool kept = p >= 0 && !std::binary_search(dropped.begin(), dropped.end(), p);
      if (!kept) chosen.push_back(flat);
    }
    std::sort(chosen.begin(), chosen.end());
    chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
  }
  return chosen;
}

std::vector<int64_t> SnipDrops(const float* grad, const float* values, int64_t n, int64_t keep) {
  ENGINE_CHECK(keep >= 0 && keep <= n, "SnipDrops: keep = ", keep, " of ", n, " stored; expected 0 <= keep <= n");
  std::vector<float> saliency(static_cast<size_t>(n));
  for (int64_t p = 0; p < n; ++p) saliency[p] = grad[p] * values[p];
  return LowestMagnitude(saliency.data(), n, n - keep);
}

void InitHistory(const engine::PatternView& w, LayerHistory* history) {
  history->ever_active.clear();
  history->ever_active.reserve(w.positions);
  for (int64_t i = 0; i < w.rows; ++i) {
    for (int64_t p = w.offsets[i]; p < w.offsets[i + 1]; ++p) history->ever_active.push_back(i * w.cols + w.indices[p]);
  }
  history->last_grown.clear();
}

LayerUpdateStats UpdateLayer(engine::SparseParameter& w, float drop_fraction, const UpdateOptions& options,
                             const std::function<void(engine::PositionMap&)>& slots_remap, LayerHistory* history) {
  // A view of the pattern as it is now: its pointers go stale at the TopologyEdit below, after their last use.
  const engine::PatternView m = w.pattern();
  LayerUpdateStats stats;
  stats.name = w.name;
  stats.nnz = m.positions;
  ENGINE_CHECK(drop_fraction >= 0.0f && drop_fraction <= 1.0f, w.name, ": drop fraction ", drop_fraction,
               " given; expected 0 <= f <= 1");
  const int64_t total = m.rows * m.cols;
  const int64_t k = DropCount(m.positions, drop_fraction);
  stats.requested = k;
  if (history != nullptr && history->ever_active.empty() && m.positions > 0) InitHistory(m, history);

  const std::vector<float> magnitudes = w.PositionMagnitudes();
  if (history != nullptr && !history->last_grown.empty()) {
    double sum = 0;
    int64_t alive = 0;
    for (int64_t flat : history->last_grown) {
      const int64_t p = m.Find(flat / m.cols, static_cast<int32_t>(flat % m.cols));
      if (p >= 0) {
        sum += magnitudes[p];
        ++alive;
      }
    }
    stats.mean_abs_prev_grown = alive ? sum / alive : 0.0;
  }
  auto finish = [&]() {
    if (history != nullptr) {
      stats.ever_active = static_cast<int64_t>(history->ever_active.size());
      stats.ever_active_fraction = total ? static_cast<double>(stats.ever_active) / total : 0.0;
    }
    return stats;
  };
  if (k == 0 || m.positions == total) return finish();

  // Drop: the k smallest magnitudes (|w|, or a block's Frobenius norm; ties: lower position).
  const std::vector<int64_t> drop = LowestMagnitude(magnitudes.data(), m.positions, k);
  // Grow: k cells outside the kept set; just-dropped positions are eligible. A blocked layer scores a cell by the
  // Frobenius norm of its block of entry scores, a tile of block rows at a time.
  auto grid_scores = [&](const RowTileFn& entry_scores) {
    if (!w.blocked()) return entry_scores;
    return BlockNormTiles(entry_scores, w.rows(), w.cols(), w.block_rows(), w.block_cols());
  };
  // Tiles in grid rows: the weight rows a tile of entry scores spans (the default, or options.tile_rows) over R, so a
  // blocked layer's entry tile is no larger than a CSR layer's (plus the grid tile, 1 / (R x C) of it).
  const int64_t entry_tile_rows = options.tile_rows > 0 ? options.tile_rows : DefaultTileRows(w.cols());
  const int64_t tile_rows = std::max<int64_t>(1, entry_tile_rows / w.block_rows());
  std::vector<int64_t> grow_flat;
  switch (options.mode) {
    case GrowMode::kGradient:
      grow_flat = TopScoresOutsideKept(m, drop, k, grid_scores(w.dense_grad_rows), tile_rows);
      break;
    case GrowMode::kScores:
      grow_flat = TopScoresOutsideKept(m, drop, k, grid_scores(options.scores), tile_rows);
      break;
    case GrowMode::kRandom:
      grow_flat = RandomOutsideKept(m, drop, k, options.seed, options.salt);
      break;
  }
  // A just-dropped position that is regrown simply survives (keeps its weight and optimizer state): take it out
  // of both sets.
  std::vector<int64_t> final_drop;
  std::vector<engine::GrowCoord> final_grow;
  std::vector<int64_t> grown_flat;
  final_drop.reserve(k);
  final_grow.reserve(k);
  std::vector<uint8_t> regrown(drop.size(), 0);
  for (int64_t flat : grow_flat) {
    const int64_t row = flat / m.cols;
    const int32_t col = static_cast<int32_t>(flat % m.cols);
    const int64_t p = m.Find(row, col);
    if (p >= 0) {
      // Stored and eligible means it was just dropped.
      const auto it = std::lower_bound(drop.begin(), drop.end(), p);
      regrown[it - drop.begin()] = 1;
    } else {
      final_grow.push_back({row, col});
      grown_flat.push_back(flat);
    }
  }
  double dropped_sum = 0;
  for (size_t q = 0; q < drop.size(); ++q) {
    if (regrown[q]) continue;
    final_drop.push_back(drop[q]);
    dropped_sum += magnitudes[drop[q]];
  }
  stats.dropped = static_cast<int64_t>(final_drop.size());
  stats.grown = static_cast<int64_t>(final_grow.size());
  stats.mean_abs_dropped = stats.dropped ? dropped_sum / stats.dropped : 0.0;

  engine::PositionMap map;
  engine::TopologyEdit::Apply(w, final_drop, final_grow, &map, /*grown_value=*/0.0f);
  if (w.grad.size() == static_cast<size_t>(w.stored())) map.Remap(w.grad, 0.0f);
  if (slots_remap) slots_remap(map);
  w.dense_grad_rows = nullptr;  // the saved activations belong to the old topology

  if (history != nullptr) {
    std::vector<int64_t> merged;
    merged.reserve(history->ever_active.size() + grown_flat.size());
    std::merge(history->ever_active.begin(), history->ever_active.end(), grown_flat.begin(), grown_flat.end(),
               std::back_inserter(merged));
    merged.erase(std::unique(merged.begin(), merged.end()), merged.end());
    history->ever_active = std::move(merged);
    history->last_grown = grown_flat;
  }
  return finish();
}

}  // namespace rigl
