// Drop-and-grow updates (see updater.h).
#include "rigl/updater.h"

#include "rigl/drop_schedule.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>

#include "engine/base/check.h"
#include "engine/base/rng.h"
#include "engine/sparse/magnitude_scan.h"

namespace rigl {
namespace {

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

// Keeps the first k of a sequence of keys, in the order met, that a sort by (key, position) would put first: every
// key below the k-th smallest, and the earliest of its ties.
class FirstKSmallest {
 public:
  FirstKSmallest(KeyCut cut, int64_t k) : cut_(cut.key), ties_(k - cut.below) {}
  // Branch-free (whether a key is kept is unpredictable): a tie is kept while ties remain, and each tie uses one.
  bool Keep(uint32_t key) {
    const bool tie = key == cut_;
    const bool keep = (key < cut_) | (tie & (ties_ > 0));
    ties_ -= static_cast<int64_t>(tie);
    return keep;
  }

 private:
  uint32_t cut_;
  int64_t ties_;
};

// Grow candidates of one scan, in ascending flat order, keyed by the complement of |score|'s MagnitudeKey (smaller
// is better). A candidate is collected only if its key is within limit(); once k are held, a later cell (higher flat)
// must beat the k-th strictly, so each cut lowers the limit to just below the k-th key. The buffers are sized once
// and reused; size_ counts the live entries.
class Candidates {
 public:
  explicit Candidates(int64_t k) : k_(k) {}
  int64_t limit() const { return limit_; }
  // Starts over (keeping the buffers) with a limit inherited from the shared list.
  void Reset(int64_t limit) { size_ = 0, limit_ = limit; }
  // Collects nothing above `limit` from now on (what is held is kept).
  void Tighten(int64_t limit) { limit_ = std::min(limit_, limit); }
  // Collects the cells base + j of row[0, cols) whose score is a number with key <= limit(); NaN never is.
  void ScanRow(const float* row, int64_t cols, int64_t base) {
    if (limit_ < 0) return;  // k == 0: nothing can be taken
    Reserve(size_ + cols + engine::kMagnitudeScanSlack);
    size_ += engine::CollectByMagnitude(row, cols, base, static_cast<uint32_t>(limit_), key_.data() + size_,
                                        flat_.data() + size_);
    if (size_ >= 2 * k_ + kSlack) Cut();
  }
  // Appends another list whose flats all follow this one's, and adopts its limit if tighter (its k held entries
  // beat everything above it as well).
  void Append(const Candidates& other) {
    Reserve(size_ + other.size_);
    std::copy(other.key_.begin(), other.key_.begin() + other.size_, key_.begin() + size_);
    std::copy(other.flat_.begin(), other.flat_.begin() + other.size_, flat_.begin() + size_);
    size_ += other.size_;
    limit_ = std::min(limit_, other.limit_);
    if (size_ >= 2 * k_ + kSlack) Cut();
  }
  // Keeps the best k (in flat order: the ties at the k-th key that come first) and lowers the limit.
  void Cut() {
    if (size_ <= k_) return;
    if (k_ == 0) {
      size_ = 0, limit_ = -1;
      return;
    }
    const KeyCut cut = KthSmallestKey(key_.data(), size_, k_);
    FirstKSmallest keep(cut, k_);
    int64_t m = 0;
    for (int64_t i = 0; i < size_; ++i) {  // branch-free: copy every entry, advance past the kept ones
      const uint32_t key = key_[i];
      key_[m] = key;
      flat_[m] = flat_[i];
      m += static_cast<int64_t>(keep.Keep(key));
    }
    size_ = m;
    limit_ = std::min(limit_, static_cast<int64_t>(cut.key) - 1);
  }
  // The kept flats, and their keys into `keys` if given.
  std::vector<int64_t> TakeFlats(std::vector<uint32_t>* keys = nullptr) {
    Cut();
    flat_.resize(size_);
    if (keys != nullptr) keys->assign(key_.begin(), key_.begin() + size_);
    size_ = 0;
    return std::move(flat_);
  }

 private:
  static constexpr int64_t kSlack = 1024;  // so tiny k still amortise the cut
  void Reserve(int64_t n) {
    if (static_cast<int64_t>(key_.size()) >= n) return;
    const size_t grown = static_cast<size_t>(std::max<int64_t>(n, 2 * static_cast<int64_t>(key_.size())));
    key_.resize(grown);
    flat_.resize(grown);
  }
  int64_t k_;
  int64_t size_ = 0;
  int64_t limit_ = 0xffffffffll;  // every key (a score of 0 has the largest, 0xffffffff)
  std::vector<uint32_t> key_;
  std::vector<int64_t> flat_;
};

// For flats sorted ascending (cells of m's grid), calls f(t, p) with flats[t]'s stored position p, or -1 if it is not
// stored: one walk along the pattern instead of a binary search per cell (a Find per cell if they are not sorted).
template <typename F>
void ForEachStoredPosition(const engine::PatternView& m, const std::vector<int64_t>& flats, F&& f) {
  if (!std::is_sorted(flats.begin(), flats.end())) {
    for (size_t t = 0; t < flats.size(); ++t) f(t, m.Find(flats[t] / m.cols, static_cast<int32_t>(flats[t] % m.cols)));
    return;
  }
  // The row advances with the sorted flats, so no division per cell.
  int64_t row = -1, row_start = 0, p = 0, end = 0;
  for (size_t t = 0; t < flats.size(); ++t) {
    const int64_t flat = flats[t];
    if (flat < 0 || flat >= m.rows * m.cols) {
      f(t, -1);
      continue;
    }
    if (row < 0 || flat >= row_start + m.cols) {
      row = row < 0 || flat >= row_start + 2 * m.cols ? flat / m.cols : row + 1;
      row_start = row * m.cols, p = m.offsets[row], end = m.offsets[row + 1];
    }
    const int32_t c = static_cast<int32_t>(flat - row_start);
    while (p < end && m.indices[p] < c) ++p;
    f(t, p < end && m.indices[p] == c ? p : int64_t{-1});
  }
}

// A limit that the k best of `eligible` cells are expected to be within, from the numbers of one tile sampled at a
// stride coprime with its row length (so successive rows shift the sampled columns): the key of rank
// 1.5 qS + 4 sqrt(qS) + 64 among the S sampled, q = k / eligible (half as many again as expected, plus four standard
// deviations of the sample count, plus a floor). The widest limit when that rank is not below S.
int64_t PredictedLimit(const engine::DenseView& tile, int64_t k, int64_t eligible) {
  constexpr int64_t kWidest = 0xffffffffll, kSamples = 1 << 16;
  const int64_t cols = tile.cols, cells = tile.rows * tile.cols;
  if (cells == 0 || eligible <= 0) return kWidest;
  int64_t stride = std::max<int64_t>(1, cells / kSamples);
  while (std::gcd(stride, cols) != 1) ++stride;
  std::vector<uint32_t> keys;
  keys.reserve(static_cast<size_t>(cells / stride + 1));
  for (int64_t c = 0; c < cells; c += stride) {
    const uint32_t magnitude = MagnitudeKey(tile.row(c / cols)[c % cols]);
    if (magnitude != kNanMagnitudeKey) keys.push_back(~magnitude);
  }
  const int64_t sampled = static_cast<int64_t>(keys.size());
  const double expected = static_cast<double>(k) / static_cast<double>(eligible) * static_cast<double>(sampled);
  const double rank = std::ceil(1.5 * expected + 4.0 * std::sqrt(expected) + 64.0);
  if (rank >= static_cast<double>(sampled)) return kWidest;
  return KthSmallestKey(keys.data(), sampled, static_cast<int64_t>(rank)).key;
}

}  // namespace

KeyCut KthSmallestKey(const uint32_t* keys, int64_t n, int64_t k) {
  ENGINE_CHECK(k >= 1 && k <= n, "KthSmallestKey: k = ", k, " of ", n, " keys; expected 1 <= k <= n");
  std::vector<int64_t> count(size_t{1} << 16, 0);
  for (int64_t i = 0; i < n; ++i) ++count[keys[i] >> 16];
  int64_t below = 0;
  uint32_t high = 0;
  while (below + count[high] < k) below += count[high++];
  std::fill(count.begin(), count.end(), 0);
  for (int64_t i = 0; i < n; ++i) {
    if ((keys[i] >> 16) == high) ++count[keys[i] & 0xffffu];
  }
  uint32_t low = 0;
  while (below + count[low] < k) below += count[low++];
  return {(high << 16) | low, below};
}

std::vector<int64_t> LowestMagnitude(const float* values, int64_t n, int64_t k) {
  ENGINE_CHECK(k >= 0 && k <= n, "LowestMagnitude: k = ", k, " of ", n, " values; expected 0 <= k <= n");
  std::vector<int64_t> out;
  if (k == 0) return out;
  std::vector<uint32_t> keys(static_cast<size_t>(n));
  for (int64_t p = 0; p < n; ++p) keys[p] = MagnitudeKey(values[p]);
  const KeyCut cut = KthSmallestKey(keys.data(), n, k);
  // One pass in position order: everything below the k-th magnitude, and the first of its ties.
  FirstKSmallest keep(cut, k);
  out.resize(static_cast<size_t>(k) + 1);  // branch-free: one slot past the k for the writes after the last kept
  int64_t m = 0;
  for (int64_t p = 0; p < n; ++p) {
    out[m] = p;
    m += static_cast<int64_t>(keep.Keep(keys[p]));
  }
  out.resize(static_cast<size_t>(k));
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
                                          int64_t k, const RowTileFn& scores, int64_t tile_rows, GrowScanInfo* info,
                                          std::vector<uint32_t>* keys) {
  const int64_t rows = w.rows, cols = w.cols;
  if (keys != nullptr) keys->clear();
  ENGINE_CHECK(static_cast<bool>(scores), "rigl grow: no score source (dense_grad_rows not set: was the layer's "
                                          "want_dense_grad flag on during the backward pass?)");
  if (k == 0) return {};
  if (tile_rows <= 0) tile_rows = DefaultTileRows(cols);
  tile_rows = std::min(tile_rows, std::max<int64_t>(rows, 1));
  engine::Tensor tile({tile_rows, cols});
  // Each thread scans a contiguous run of a tile's rows into its own list; the lists join the shared one in row
  // order, so it stays in flat order without a sort.
  std::vector<Candidates> partial(omp_get_max_threads(), Candidates(k));
  const int64_t* offsets = w.offsets;
  const int32_t* col_indices = w.indices;
  // Kept positions are overwritten with NaN, which is never collected (a finite mark such as -1 could collide with a
  // real gradient value of exactly -1).
  const float kKept = std::numeric_limits<float>::quiet_NaN();
  const int64_t eligible = rows * cols - (w.positions - static_cast<int64_t>(dropped.size()));
  // The first pass starts from a limit predicted from a sample of the first tile, so far fewer candidates are
  // collected and cut. If the prediction was too tight (fewer than k cells within it), a second pass without it
  // gives the exact answer: the result never depends on the prediction.
  for (int pass = 1;; ++pass) {
    const bool predict = pass == 1 && eligible >= k;
    Candidates all(k);
    int used = 1;
    for (int64_t r0 = 0; r0 < rows; r0 += tile_rows) {
      const int64_t r1 = std::min(rows, r0 + tile_rows);
      engine::DenseView out{tile.data(), r1 - r0, cols, cols};
      scores(r0, r1, out);
      // The tile the prediction samples is marked whole first; every other is marked and scanned row by row, so a
      // row is still in cache when it is scanned.
      const bool sample = predict && r0 == 0;
#pragma omp parallel
      {
        const int t = omp_get_thread_num(), team = omp_get_num_threads();
        if (t == 0) used = team;
        const int64_t begin = r0 + (r1 - r0) * t / team, end = r0 + (r1 - r0) * (t + 1) / team;
        Candidates& mine = partial[t];
        mine.Reset(all.limit());
        for (int64_t i = begin; i < end; ++i) {
          float* row = out.row(i - r0);
          DroppedCursor cursor(dropped);
          cursor.SeekTo(offsets[i]);
          for (int64_t p = offsets[i]; p < offsets[i + 1]; ++p) {
            if (!cursor.IsDropped(p)) row[col_indices[p]] = kKept;  // kept connections are never grown
          }
          if (!sample) mine.ScanRow(row, cols, i * cols);
        }
        if (sample) {
#pragma omp barrier
#pragma omp single
          all.Tighten(PredictedLimit(out, k, eligible));
          mine.Reset(all.limit());
          for (int64_t i = begin; i < end; ++i) mine.ScanRow(out.row(i - r0), cols, i * cols);
        }
      }
      for (int t = 0; t < used; ++t) all.Append(partial[t]);
    }
    std::vector<int64_t> flat = all.TakeFlats(keys);
    if (info != nullptr) info->passes = pass;
    if (static_cast<int64_t>(flat.size()) < k && predict) continue;
    if (info != nullptr && info->fewer_ok) return flat;
    ENGINE_CHECK(static_cast<int64_t>(flat.size()) == k, "rigl grow: found ", flat.size(),
                 " eligible positions; expected ", k, " (layer too dense for the drop fraction?)");
    return flat;
  }
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
  int64_t sorted = 0;
  while (static_cast<int64_t>(chosen.size()) < k) {
    const int64_t missing = k - static_cast<int64_t>(chosen.size());
    for (int64_t t = 0; t < missing; ++t) {
      const int64_t flat = static_cast<int64_t>(rng.UniformInt(total));
      const int64_t p = w.Find(flat / w.cols, static_cast<int32_t>(flat % w.cols));
      const bool kept = p >= 0 && !std::binary_search(dropped.begin(), dropped.end(), p);
      if (!kept) chosen.push_back(flat);
    }
    // Only the new draws need sorting: the earlier ones already are (and are unique).
    std::sort(chosen.begin() + sorted, chosen.end());
    std::inplace_merge(chosen.begin(), chosen.begin() + sorted, chosen.end());
    chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
    sorted = static_cast<int64_t>(chosen.size());
  }
  return chosen;
}

std::vector<float> MestScores(const float* values, const float* grad, int64_t n, float lambda) {
  std::vector<float> score(static_cast<size_t>(n));
  for (int64_t p = 0; p < n; ++p) score[p] = std::fabs(values[p]) + lambda * std::fabs(grad[p]);
  return score;
}

std::vector<int64_t> SnipDrops(const float* grad, const float* values, int64_t n, int64_t keep) {
  ENGINE_CHECK(keep >= 0 && keep <= n, "SnipDrops: keep = ", keep, " of ", n, " stored; expected 0 <= keep <= n");
  std::vector<float> saliency(static_cast<size_t>(n));
  for (int64_t p = 0; p < n; ++p) saliency[p] = grad[p] * values[p];
  return LowestMagnitude(saliency.data(), n, n - keep);
}

void InitHistory(const engine::PatternView& w, LayerHistory* history) {
  std::vector<int64_t> flats;
  flats.reserve(static_cast<size_t>(w.positions));
  for (int64_t i = 0; i < w.rows; ++i) {
    for (int64_t p = w.offsets[i]; p < w.offsets[i + 1]; ++p) flats.push_back(i * w.cols + w.indices[p]);
  }
  history->ever_active.Assign(w.rows * w.cols, std::move(flats), "the ever-active history");
  history->last_grown.clear();
}

LayerUpdateStats BeginLayerUpdate(const engine::SparseParameter& w, const std::vector<float>& magnitudes,
                                  LayerHistory* history) {
  const engine::PatternView m = w.pattern();
  LayerUpdateStats stats;
  stats.name = w.name;
  stats.nnz = m.positions;
  if (history != nullptr && history->ever_active.empty() && m.positions > 0) InitHistory(m, history);
  if (history != nullptr && !history->last_grown.empty()) {
    double sum = 0;
    int64_t alive = 0;
    ForEachStoredPosition(m, history->last_grown, [&](size_t, int64_t p) {
      if (p >= 0) {
        sum += magnitudes[p];
        ++alive;
      }
    });
    stats.mean_abs_prev_grown = alive ? sum / alive : 0.0;
  }
  return stats;
}

void FinishLayerUpdate(const engine::PatternView& m, const LayerHistory* history, LayerUpdateStats* stats) {
  if (history == nullptr) return;
  const int64_t total = m.rows * m.cols;
  stats->ever_active = history->ever_active.size();
  stats->ever_active_fraction = total ? static_cast<double>(stats->ever_active) / total : 0.0;
}

LayerEdit ResolveRegrown(const engine::PatternView& m, const std::vector<int64_t>& drop,
                         const std::vector<int64_t>& grow_flat, const std::vector<float>& magnitudes,
                         const std::string& name) {
  LayerEdit e;
  e.drop.reserve(drop.size());
  e.grow.reserve(grow_flat.size());
  std::vector<uint8_t> regrown(drop.size(), 0);
  // The only stored cells a grow can return are just-dropped ones, so the regrown cells are the grown flats that are
  // also flats of `drop`: both ascend (drop's positions are in row-major order), so one merge of the two lists finds
  // them, without walking the pattern. (A grown cell stored but not dropped would still be refused by TopologyEdit's
  // validation.)
  ENGINE_CHECK(std::is_sorted(grow_flat.begin(), grow_flat.end()), name, ": grow cells not in ascending order "
               "(internal error)");
  std::vector<int64_t> drop_flat(drop.size());
  for (size_t q = 0, row = 0; q < drop.size(); ++q) {
    while (m.offsets[row + 1] <= drop[q]) ++row;
    drop_flat[q] = static_cast<int64_t>(row) * m.cols + m.indices[drop[q]];
  }
  size_t next_drop = 0;
  int64_t row = 0, row_start = 0;
  for (const int64_t flat : grow_flat) {
    while (next_drop < drop_flat.size() && drop_flat[next_drop] < flat) ++next_drop;
    if (next_drop < drop_flat.size() && drop_flat[next_drop] == flat) {
      regrown[next_drop] = 1;
      continue;
    }
    if (flat >= row_start + m.cols) row = flat / m.cols, row_start = row * m.cols;  // rows advance with the flats
    e.grow.push_back({row, static_cast<int32_t>(flat - row_start)});
    e.grown_flat.push_back(flat);
  }
  for (size_t q = 0; q < drop.size(); ++q) {
    if (regrown[q]) continue;
    e.drop.push_back(drop[q]);
    e.dropped_magnitude_sum += magnitudes[drop[q]];
  }
  return e;
}

void RecordGrowth(LayerHistory* history, std::vector<int64_t> grown_flat) {
  if (history == nullptr) return;
  history->ever_active.Add(grown_flat);
  history->last_grown = std::move(grown_flat);
}

LayerUpdateStats UpdateLayer(engine::SparseParameter& w, float drop_fraction, const UpdateOptions& options,
                             const std::function<void(engine::PositionMap&)>& slots_remap, LayerHistory* history) {
  // A view of the pattern as it is now: its pointers go stale at the TopologyEdit below, after their last use.
  const engine::PatternView m = w.pattern();
  ENGINE_CHECK(drop_fraction >= 0.0f && drop_fraction <= 1.0f, w.name, ": drop fraction ", drop_fraction,
               " given; expected 0 <= f <= 1");
  const int64_t total = m.rows * m.cols;
  const int64_t k = DropCount(m.positions, drop_fraction);
  const std::vector<float> magnitudes = w.PositionMagnitudes();
  LayerUpdateStats stats = BeginLayerUpdate(w, magnitudes, history);
  stats.requested = k;
  if (k == 0 || m.positions == total) {
    FinishLayerUpdate(m, history, &stats);
    return stats;
  }

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
  // A just-dropped position that is regrown simply survives (keeps its weight and optimizer state).
  LayerEdit edit = ResolveRegrown(m, drop, grow_flat, magnitudes, w.name);
  stats.dropped = static_cast<int64_t>(edit.drop.size());
  stats.grown = static_cast<int64_t>(edit.grow.size());
  stats.mean_abs_dropped = stats.dropped ? edit.dropped_magnitude_sum / stats.dropped : 0.0;

  engine::PositionMap map;
  engine::TopologyEdit::Apply(w, edit.drop, edit.grow, &map, /*grown_value=*/0.0f);
  if (w.grad.size() == static_cast<size_t>(w.stored())) map.Remap(w.grad, 0.0f);
  if (slots_remap) slots_remap(map);
  w.dense_grad_rows = nullptr;  // the saved activations belong to the old topology

  RecordGrowth(history, std::move(edit.grown_flat));
  FinishLayerUpdate(m, history, &stats);
  return stats;
}

std::vector<GlobalChoice> SelectAcrossLayers(const std::vector<GlobalLayerInput>& layers, int64_t k,
                                             int64_t tile_rows) {
  ENGINE_CHECK(k >= 0, "global selection: k = ", k, " given; expected k >= 0");
  std::vector<GlobalChoice> out(layers.size());
  // Picks the `take` smallest keys of the per-layer candidate lists, concatenated in layer order (each list in its
  // own ascending order), ties to the earlier entry; returns the per-layer picks, each a subsequence of its list.
  auto pick = [](const std::vector<std::vector<int64_t>>& items, const std::vector<std::vector<uint32_t>>& keys,
                 int64_t take) {
    std::vector<uint32_t> all;
    for (const std::vector<uint32_t>& k : keys) all.insert(all.end(), k.begin(), k.end());
    std::vector<std::vector<int64_t>> picked(items.size());
    if (take == 0) return picked;
    FirstKSmallest keep(KthSmallestKey(all.data(), static_cast<int64_t>(all.size()), take), take);
    for (size_t l = 0; l < items.size(); ++l) {
      for (size_t q = 0; q < items[l].size(); ++q) {
        if (keep.Keep(keys[l][q])) picked[l].push_back(items[l][q]);
      }
    }
    return picked;
  };
  // Drop: each layer offers its (nnz - floor) smallest magnitudes, at most k; the k smallest of all offers go. Any
  // selection within the floors takes each layer's smallest first, so this is the k smallest under the floors.
  std::vector<std::vector<int64_t>> offers(layers.size());
  std::vector<std::vector<uint32_t>> offer_keys(layers.size());
  int64_t offered = 0;
  for (size_t l = 0; l < layers.size(); ++l) {
    const GlobalLayerInput& in = layers[l];
    ENGINE_CHECK(in.floor >= 0, "global selection: layer ", l, " floor ", in.floor, " given; expected >= 0");
    const int64_t n = in.pattern.positions;
    offers[l] = LowestMagnitude(in.magnitudes, n, std::min(std::max<int64_t>(0, n - in.floor), k));
    for (const int64_t p : offers[l]) offer_keys[l].push_back(MagnitudeKey(in.magnitudes[p]));
    offered += static_cast<int64_t>(offers[l].size());
  }
  const int64_t moves = std::min(k, offered);  // the floors may leave fewer than k to drop
  std::vector<std::vector<int64_t>> drops = pick(offers, offer_keys, moves);
  // Grow: each layer offers its best cells outside its kept set (as many as it has, at most `moves`); the `moves`
  // best scores of all offers grow, so the total nnz is unchanged.
  std::vector<std::vector<int64_t>> cells(layers.size());
  std::vector<std::vector<uint32_t>> cell_keys(layers.size());
  int64_t found = 0;
  for (size_t l = 0; l < layers.size(); ++l) {
    const engine::PatternView& m = layers[l].pattern;
    const int64_t eligible = m.rows * m.cols - (m.positions - static_cast<int64_t>(drops[l].size()));
    const int64_t offer = std::min(moves, eligible);
    GrowScanInfo scan;
    scan.fewer_ok = true;  // a layer may offer fewer (NaN scores); only the total must reach `moves`
    if (offer > 0) {
      cells[l] = TopScoresOutsideKept(m, drops[l], offer, layers[l].scores, tile_rows, &scan, &cell_keys[l]);
    }
    found += static_cast<int64_t>(cells[l].size());
  }
  ENGINE_CHECK(found >= moves, "global grow: ", found, " cells with a numeric score outside the kept sets of all ",
               layers.size(), " layers; expected at least the ", moves, " dropped (NaN in the dense gradient?)");
  std::vector<std::vector<int64_t>> grows = pick(cells, cell_keys, moves);
  for (size_t l = 0; l < layers.size(); ++l) {
    out[l].drop = std::move(drops[l]);
    out[l].grow_flat = std::move(grows[l]);
  }
  return out;
}

}  // namespace rigl
