// Tests of RigL's drop-and-grow update against independent references: a dense score matrix ranked by a plain sort,
// the pattern and values before and after, and hand-made optimizer slots.
#include "rigl/updater.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>

#include <omp.h>

#include <gtest/gtest.h>

#include "engine/base/check.h"
#include "engine/base/rng.h"
#include "tests/testutil/testutil.h"

namespace {

using engine::CsrMatrix;
using engine::SparseParameter;

struct Fixture {
  SparseParameter w;
  std::vector<float> dense_grad;  // rows x cols, the reference dense gradient
};

// A layer with random weights (magnitudes distinct) and a random dense gradient served through dense_grad_rows.
Fixture MakeLayer(int64_t rows, int64_t cols, double density, uint64_t seed) {
  engine::Rng rng(seed);
  Fixture f{SparseParameter("fc.weight", testutil::RandomCsr(rows, cols, density, rng)), {}};
  for (float& g : f.w.grad) g = rng.UniformFloat(-1, 1);
  f.dense_grad.resize(rows * cols);
  for (float& g : f.dense_grad) g = rng.UniformFloat(-1, 1);
  const std::vector<float>* grad = &f.dense_grad;
  f.w.dense_grad_rows = [grad, cols](int64_t r0, int64_t r1, engine::DenseView out) {
    for (int64_t i = r0; i < r1; ++i) std::copy(grad->begin() + i * cols, grad->begin() + (i + 1) * cols, out.row(i - r0));
  };
  return f;
}

std::map<int64_t, float> Entries(const CsrMatrix& m) {  // flat position -> value
  std::map<int64_t, float> e;
  for (int64_t i = 0; i < m.rows(); ++i)
    for (int64_t p = m.row_offsets()[i]; p < m.row_offsets()[i + 1]; ++p) e[i * m.cols() + m.col_indices()[p]] = m.values()[p];
  return e;
}

TEST(LowestMagnitude, MatchesSortWithPositionTieBreak) {
  const std::vector<float> v = {0.5f, -0.1f, 0.1f, 2.0f, -0.1f, 0.0f};
  // |v| sorted: 0 (5), 0.1 (1), 0.1 (2), 0.1 (4), 0.5 (0), 2 (3)
  EXPECT_EQ(rigl::LowestMagnitude(v.data(), 6, 3), (std::vector<int64_t>{1, 2, 5}));
  EXPECT_EQ(rigl::LowestMagnitude(v.data(), 6, 0), std::vector<int64_t>{});
  EXPECT_THROW(rigl::LowestMagnitude(v.data(), 6, 7), engine::Error);
}

// The radix selection against a sort: keys spread over all 32 bits, keys that differ only in their low 16 bits (one
// high bin), heavy ties, and all equal; k from 1 to n. The k-th smallest and the count strictly below it.
TEST(KthSmallestKey, EqualsSort) {
  engine::Rng rng(6);
  const int64_t n = 3001;
  for (int kind = 0; kind < 4; ++kind) {
    std::vector<uint32_t> keys(n);
    for (uint32_t& key : keys) {
      const uint32_t r = static_cast<uint32_t>(rng.UniformInt(uint64_t{1} << 32));
      key = kind == 0 ? r : kind == 1 ? (0xabcd0000u | (r & 0xffffu)) : kind == 2 ? (r % 7) * 0x00010001u : 42u;
    }
    std::vector<uint32_t> sorted = keys;
    std::sort(sorted.begin(), sorted.end());
    for (const int64_t k : {int64_t{1}, int64_t{2}, n / 3, n / 2, n - 1, n}) {
      const rigl::KeyCut cut = rigl::KthSmallestKey(keys.data(), n, k);
      EXPECT_EQ(cut.key, sorted[k - 1]) << "kind " << kind << ", k " << k;
      EXPECT_EQ(cut.below, std::lower_bound(sorted.begin(), sorted.end(), sorted[k - 1]) - sorted.begin())
          << "kind " << kind << ", k " << k;
    }
  }
  EXPECT_THROW(rigl::KthSmallestKey(nullptr, 0, 1), engine::Error);
}

// MagnitudeKey orders like |x|: a sort by key equals a sort by fabs, for signed zeros, denormals, +-inf; NaNs last.
TEST(MagnitudeKey, OrdersLikeMagnitude) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> v = {-0.0f, 0.0f, 1e-40f, -1e-45f, 1.0f, -1.0f, 3.5f, -inf, inf, 1e30f};
  for (float a : v) {
    for (float b : v) {
      EXPECT_EQ(rigl::MagnitudeKey(a) < rigl::MagnitudeKey(b), std::fabs(a) < std::fabs(b)) << a << " vs " << b;
      EXPECT_EQ(rigl::MagnitudeKey(a) == rigl::MagnitudeKey(b), std::fabs(a) == std::fabs(b)) << a << " vs " << b;
    }
    EXPECT_LT(rigl::MagnitudeKey(a), rigl::MagnitudeKey(std::numeric_limits<float>::quiet_NaN()));
  }
  EXPECT_EQ(rigl::MagnitudeKey(std::numeric_limits<float>::quiet_NaN()),
            rigl::MagnitudeKey(-std::numeric_limits<float>::signaling_NaN()));
}

// Many values with heavy ties (quantised magnitudes, zeros, both signs, +-inf and NaN): the k smallest by (|v|
// ascending, position ascending), against a plain sort, for k from 0 to n. NaN ranks after every number (it is
// dropped last), so a corrupt value never displaces a real small weight.
TEST(LowestMagnitude, EqualsFullSortWithTies) {
  engine::Rng rng(4);
  const int64_t n = 5000;
  std::vector<float> v(n);
  for (float& x : v) x = (static_cast<float>(rng.UniformInt(21)) - 10.0f) * 0.125f;
  v[17] = std::numeric_limits<float>::infinity();
  v[18] = -std::numeric_limits<float>::infinity();
  v[19] = std::numeric_limits<float>::quiet_NaN();
  v[20] = -0.0f;
  v[21] = 1e-40f;  // a denormal is still a (tiny) magnitude
  std::vector<std::pair<float, int64_t>> oracle;
  for (int64_t p = 0; p < n; ++p) oracle.push_back({std::isnan(v[p]) ? INFINITY : std::fabs(v[p]), p});
  std::stable_sort(oracle.begin(), oracle.end(), [&](const auto& a, const auto& b) {
    const bool na = std::isnan(v[a.second]), nb = std::isnan(v[b.second]);
    if (na != nb) return nb;  // NaN last
    return a.first < b.first;
  });
  for (const int64_t k : {int64_t{0}, int64_t{1}, int64_t{7}, int64_t{999}, int64_t{2500}, n - 1, n}) {
    std::vector<int64_t> want;
    for (int64_t q = 0; q < k; ++q) want.push_back(oracle[q].second);
    std::sort(want.begin(), want.end());
    EXPECT_EQ(rigl::LowestMagnitude(v.data(), n, k), want) << "k = " << k;
  }
}

// The grow selection on its own: a layer whose scores tie heavily (quantised, zeros, NaN, +inf), with a third of
// its stored entries dropped, scanned in tiles of 1, 4 and all rows, on 1, 2 and 3 threads, for k up to every
// eligible cell: exactly the first k of a plain sort of the eligible cells by (|score| descending, flat ascending),
// in ascending flat order. NaN cells are never grown.
// The k best cells by |score| outside the kept set (stored and not dropped), NaN excluded, ties to the lower flat,
// by a full sort; returned ascending.
std::vector<int64_t> TopKBySort(const CsrMatrix& w, const std::vector<int64_t>& dropped,
                                const std::vector<float>& scores, int64_t k) {
  std::set<int64_t> kept;
  for (int64_t r = 0; r < w.rows(); ++r) {
    for (int64_t p = w.row_offsets()[r]; p < w.row_offsets()[r + 1]; ++p) {
      if (!std::binary_search(dropped.begin(), dropped.end(), p)) kept.insert(r * w.cols() + w.col_indices()[p]);
    }
  }
  std::vector<std::pair<float, int64_t>> order;  // (-|s|, flat): ascending = best first
  for (int64_t flat = 0; flat < w.rows() * w.cols(); ++flat) {
    if (!kept.count(flat) && !std::isnan(scores[flat])) order.push_back({-std::fabs(scores[flat]), flat});
  }
  std::sort(order.begin(), order.end());
  std::vector<int64_t> want;
  for (int64_t q = 0; q < k && q < static_cast<int64_t>(order.size()); ++q) want.push_back(order[q].second);
  std::sort(want.begin(), want.end());
  return want;
}

// The first pass collects within a limit predicted from the first tile. Scores that look alike everywhere need one
// pass; a first tile whose scores are all larger than the rest makes the prediction too tight, and the second pass
// must still return exactly the sorted answer.
TEST(Updater, TopScoresOutsideKeptRescansWhenThePredictionIsTooTight) {
  engine::Rng rng(21);
  const int64_t rows = 400, cols = 300, tile = 50;
  const CsrMatrix w = testutil::RandomCsr(rows, cols, 0.2, rng);
  std::vector<int64_t> dropped;
  for (int64_t p = 0; p < w.nnz(); p += 4) dropped.push_back(p);
  for (const bool skewed : {false, true}) {
    std::vector<float> scores(rows * cols);
    for (int64_t flat = 0; flat < rows * cols; ++flat) {
      const float u = rng.UniformFloat(-1, 1);
      scores[flat] = skewed && flat < tile * cols ? 10.0f + 10.0f * u : u;
    }
    int64_t tiles_asked = 0;
    const rigl::RowTileFn fill = [&](int64_t r0, int64_t r1, engine::DenseView out) {
      ++tiles_asked;
      for (int64_t i = r0; i < r1; ++i) std::copy(scores.begin() + i * cols, scores.begin() + (i + 1) * cols, out.row(i - r0));
    };
    for (const int64_t k : {int64_t{100}, int64_t{5000}}) {
      tiles_asked = 0;
      rigl::GrowScanInfo info;
      EXPECT_EQ(rigl::TopScoresOutsideKept(w, dropped, k, fill, tile, &info), TopKBySort(w, dropped, scores, k))
          << "k " << k << (skewed ? ", skewed" : ", alike");
      const int want_passes = skewed ? 2 : 1;
      EXPECT_EQ(info.passes, want_passes) << "k " << k << (skewed ? ", skewed" : ", alike");
      EXPECT_EQ(tiles_asked, want_passes * rows / tile) << "every tile is asked for again on a second pass";
    }
  }
}

// Over many updates the history is the union of every pattern the layer has had, and last_grown the cells that were
// not stored before the latest update; regrowing a cell that was active long ago must not count it twice.
TEST(Updater, HistoryIsTheUnionOfEveryPattern) {
  Fixture f = MakeLayer(13, 17, 0.3, 31);
  const rigl::RowTileFn grad_rows = f.w.dense_grad_rows;
  engine::Rng rng(32);
  rigl::LayerHistory history;
  std::set<int64_t> ever;
  for (const auto& e : Entries(f.w.weight())) ever.insert(e.first);
  int64_t regrown_old = 0;
  for (int u = 0; u < 12; ++u) {
    for (float& v : f.w.mutable_values()) v = rng.UniformFloat(-1, 1);
    for (float& g : f.dense_grad) g = rng.UniformFloat(-1, 1);
    f.w.dense_grad_rows = grad_rows;
    std::set<int64_t> before;
    for (const auto& e : Entries(f.w.weight())) before.insert(e.first);
    rigl::UpdateOptions options;
    rigl::UpdateLayer(f.w, 0.5f, options, nullptr, &history);
    std::vector<int64_t> grown;
    for (const auto& e : Entries(f.w.weight())) {
      if (!before.count(e.first)) {
        grown.push_back(e.first);
        regrown_old += ever.count(e.first) ? 1 : 0;
      }
      ever.insert(e.first);
    }
    EXPECT_EQ(history.ever_active.Sorted(), std::vector<int64_t>(ever.begin(), ever.end())) << "update " << u;
    EXPECT_EQ(history.last_grown, grown) << "update " << u;
  }
  EXPECT_GT(regrown_old, 0) << "the case of a cell grown again after an earlier life never came up";
}

TEST(Updater, TopScoresOutsideKeptEqualsFullSort) {
  engine::Rng rng(8);
  const int64_t rows = 61, cols = 67;
  const CsrMatrix w = testutil::RandomCsr(rows, cols, 0.2, rng);
  std::vector<float> scores(rows * cols);
  for (float& s : scores) s = (static_cast<float>(rng.UniformInt(9)) - 4.0f) * 0.5f;
  scores[5] = std::numeric_limits<float>::quiet_NaN();
  scores[6] = std::numeric_limits<float>::infinity();
  scores[7] = -std::numeric_limits<float>::quiet_NaN();
  std::vector<int64_t> dropped;
  for (int64_t p = 1; p < w.nnz(); p += 3) dropped.push_back(p);
  const rigl::RowTileFn fill = [&](int64_t r0, int64_t r1, engine::DenseView out) {
    for (int64_t i = r0; i < r1; ++i) std::copy(scores.begin() + i * cols, scores.begin() + (i + 1) * cols, out.row(i - r0));
  };
  const int64_t eligible = static_cast<int64_t>(TopKBySort(w, dropped, scores, rows * cols).size());
  const int threads_before = omp_get_max_threads();
  for (const int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    for (const int64_t tile : {int64_t{1}, int64_t{4}, rows}) {
      for (const int64_t k : {int64_t{1}, int64_t{40}, int64_t{1000}, eligible / 2, eligible}) {
        EXPECT_EQ(rigl::TopScoresOutsideKept(w, dropped, k, fill, tile), TopKBySort(w, dropped, scores, k))
            << "k = " << k << ", tile " << tile << ", threads " << threads;
      }
    }
  }
  omp_set_num_threads(threads_before);
  EXPECT_THROW(rigl::TopScoresOutsideKept(w, dropped, eligible + 1, fill, 4), engine::Error)
      << "more cells asked for than are eligible";
}

// A dense-gradient value of exactly -1 is a real score (|-1| = 1), not a "kept" mark: it must be grown.
TEST(Updater, GradientOfExactlyMinusOneIsEligible) {
  const CsrMatrix w = CsrMatrix::FromParts(1, 4, {0, 1}, {0}, {0.5f});
  const rigl::RowTileFn scores = [](int64_t, int64_t, engine::DenseView out) {
    const float row[4] = {9.0f, 0.25f, -1.0f, 0.5f};  // column 0 is kept; column 2 has the largest |score| outside
    for (int j = 0; j < 4; ++j) out.row(0)[j] = row[j];
  };
  EXPECT_EQ(rigl::TopScoresOutsideKept(w, {}, 1, scores, 1), std::vector<int64_t>{2});
}

TEST(Updater, RiglUpdateKeepsEveryPromise) {
  Fixture f = MakeLayer(37, 53, 0.2, 11);
  const CsrMatrix before = f.w.weight();
  const auto before_entries = Entries(before);
  const int64_t nnz = before.nnz();
  // A momentum slot whose values encode the flat position, so the remap can be checked entry by entry.
  engine::AlignedVector<float> momentum(nnz);
  for (int64_t i = 0; i < before.rows(); ++i)
    for (int64_t p = before.row_offsets()[i]; p < before.row_offsets()[i + 1]; ++p)
      momentum[p] = static_cast<float>(i * before.cols() + before.col_indices()[p]) + 0.5f;

  const float fraction = 0.3f;
  const int64_t k = static_cast<int64_t>(static_cast<float>(nnz) * fraction);
  // Independent reference: drop = k smallest |w| (by position on ties); grow = top-k |g| over positions not kept.
  std::vector<std::pair<float, int64_t>> by_mag;
  for (int64_t p = 0; p < nnz; ++p) by_mag.push_back({std::fabs(before.values()[p]), p});
  std::sort(by_mag.begin(), by_mag.end());
  std::set<int64_t> dropped_flat;
  std::vector<int64_t> flat_of(nnz);
  for (int64_t i = 0; i < before.rows(); ++i)
    for (int64_t p = before.row_offsets()[i]; p < before.row_offsets()[i + 1]; ++p) flat_of[p] = i * before.cols() + before.col_indices()[p];
  for (int64_t q = 0; q < k; ++q) dropped_flat.insert(flat_of[by_mag[q].second]);
  std::vector<std::pair<float, int64_t>> candidates;
  for (int64_t flat = 0; flat < before.rows() * before.cols(); ++flat) {
    const bool kept = before_entries.count(flat) && !dropped_flat.count(flat);
    if (!kept) candidates.push_back({-std::fabs(f.dense_grad[flat]), flat});
  }
  std::sort(candidates.begin(), candidates.end());
  std::set<int64_t> grow_ref;
  for (int64_t q = 0; q < k; ++q) grow_ref.insert(candidates[q].second);

  rigl::LayerHistory history;
  rigl::UpdateOptions options;
  options.tile_rows = 5;  // several tiles, with a residue
  engine::PositionMap captured;
  const rigl::LayerUpdateStats stats = rigl::UpdateLayer(
      f.w, fraction, options, [&](engine::PositionMap& map) { map.Remap(momentum, 0.0f); }, &history);

  const CsrMatrix& after = f.w.weight();
  after.Validate("after update");
  EXPECT_EQ(after.nnz(), nnz) << "nnz is conserved";
  const auto after_entries = Entries(after);
  // The new pattern is exactly (old \ dropped) ∪ grown, with regrown-dropped positions surviving.
  std::set<int64_t> expected;
  for (const auto& [flat, v] : before_entries) if (!dropped_flat.count(flat)) expected.insert(flat);
  for (int64_t flat : grow_ref) expected.insert(flat);
  std::set<int64_t> actual;
  for (const auto& [flat, v] : after_entries) actual.insert(flat);
  EXPECT_EQ(actual, expected);
  int64_t truly_new = 0;
  for (const auto& [flat, v] : after_entries) {
    const auto it = before_entries.find(flat);
    if (it != before_entries.end()) {
      EXPECT_EQ(std::memcmp(&v, &it->second, sizeof(float)), 0) << "kept weight changed at " << flat;
    } else {
      EXPECT_EQ(v, 0.0f) << "grown weight not zero at " << flat;
      ++truly_new;
    }
  }
  EXPECT_EQ(stats.grown, truly_new);
  EXPECT_EQ(stats.dropped, truly_new);
  EXPECT_EQ(stats.requested, k);
  // Momentum: kept entries carry their own slot value, new entries zero.
  for (int64_t i = 0; i < after.rows(); ++i)
    for (int64_t p = after.row_offsets()[i]; p < after.row_offsets()[i + 1]; ++p) {
      const int64_t flat = i * after.cols() + after.col_indices()[p];
      const float expect = before_entries.count(flat) ? static_cast<float>(flat) + 0.5f : 0.0f;
      EXPECT_EQ(momentum[p], expect) << "momentum at " << flat;
    }
  EXPECT_EQ(stats.ever_active, static_cast<int64_t>(before_entries.size()) + truly_new);
}

TEST(Updater, TiledTopKEqualsUntiled) {
  for (int64_t tile : {1, 3, 7, 1000}) {
    Fixture a = MakeLayer(29, 31, 0.1, 5);
    Fixture b = MakeLayer(29, 31, 0.1, 5);
    rigl::UpdateOptions oa, ob;
    oa.tile_rows = tile;
    ob.tile_rows = 29;  // one tile
    rigl::UpdateLayer(a.w, 0.5f, oa, nullptr, nullptr);
    rigl::UpdateLayer(b.w, 0.5f, ob, nullptr, nullptr);
    EXPECT_EQ(a.w.weight().col_indices(), b.w.weight().col_indices()) << "tile_rows " << tile;
    EXPECT_EQ(a.w.weight().row_offsets(), b.w.weight().row_offsets()) << "tile_rows " << tile;
  }
}

TEST(Updater, RandomGrowIsOutsideKeptAndSeeded) {
  Fixture a = MakeLayer(40, 40, 0.05, 3);
  Fixture b = MakeLayer(40, 40, 0.05, 3);
  const auto before = Entries(a.w.weight());
  rigl::UpdateOptions o;
  o.mode = rigl::GrowMode::kRandom;
  o.seed = 9;
  o.salt = 100;
  const auto sa = rigl::UpdateLayer(a.w, 0.3f, o, nullptr, nullptr);
  rigl::UpdateLayer(b.w, 0.3f, o, nullptr, nullptr);
  EXPECT_EQ(a.w.weight().col_indices(), b.w.weight().col_indices()) << "same seed, same pattern";
  EXPECT_EQ(a.w.weight().nnz(), static_cast<int64_t>(before.size()));
  EXPECT_GT(sa.grown, 0);
}

// SET's grow (RandomOutsideKept): k distinct positions, none of them kept (stored and not dropped); just-dropped
// positions are eligible again, as in the reference.
TEST(Updater, RandomGrowAvoidsKeptPositions) {
  Fixture f = MakeLayer(30, 40, 0.2, 5);
  // Drop every third stored entry: `dropped` holds storage indices (into values), as LowestMagnitude returns them.
  const CsrMatrix& m = f.w.weight();
  std::vector<int64_t> dropped;
  std::set<int64_t> kept;  // flat positions
  for (int64_t r = 0; r < m.rows(); ++r) {
    for (int64_t p = m.row_offsets()[r]; p < m.row_offsets()[r + 1]; ++p) {
      if (p % 3 == 0) {
        dropped.push_back(p);
      } else {
        kept.insert(r * m.cols() + m.col_indices()[p]);
      }
    }
  }
  const int64_t k = static_cast<int64_t>(dropped.size());
  for (uint64_t salt = 0; salt < 20; ++salt) {
    const std::vector<int64_t> grown = rigl::RandomOutsideKept(f.w.weight(), dropped, k, 11, salt);
    ASSERT_EQ(static_cast<int64_t>(grown.size()), k);
    EXPECT_EQ(std::set<int64_t>(grown.begin(), grown.end()).size(), grown.size()) << "duplicates, salt " << salt;
    for (int64_t flat : grown) {
      ASSERT_GE(flat, 0);
      ASSERT_LT(flat, 30 * 40);
      EXPECT_EQ(kept.count(flat), 0u) << "grew kept position " << flat;
    }
  }
}

// ... and uniform: a 3 x 5 layer with 5 kept positions leaves 10 eligible; 4000 draws of k = 3 put each eligible
// position in about 1200 draws. Pearson's chi-square over the 10 counts (9 degrees of freedom) stays below 27.9, the
// p = 0.001 critical value (deterministic: the seeds are fixed, so this cannot flake; a generator that favoured low
// positions or rows would exceed it).
TEST(Updater, RandomGrowIsUniformOverEligiblePositions) {
  engine::Rng rng(1);
  const CsrMatrix w = CsrMatrix::RandomPattern(3, 5, 5, rng);
  std::map<int64_t, int64_t> counts;
  const int draws = 4000;
  for (int d = 0; d < draws; ++d) {
    for (int64_t flat : rigl::RandomOutsideKept(w, {}, 3, 21, static_cast<uint64_t>(d))) ++counts[flat];
  }
  ASSERT_EQ(counts.size(), 10u) << "every eligible position must be drawn, and only those";
  const double expected = draws * 3.0 / 10.0;
  double chi2 = 0;
  for (const auto& [flat, n] : counts) chi2 += (n - expected) * (n - expected) / expected;
  std::printf("chi-square over 10 eligible positions: %.2f (p = 0.001 critical value 27.88)\n", chi2);
  EXPECT_LT(chi2, 27.9) << "chi-square " << chi2;
}

// SNFS's grow (kScores): a hand-computed 2 x 3 case. Stored (0,0) = 0.5, (0,2) = -0.1, (1,1) = 0.3; drop fraction
// 0.4 -> k = int(3 * 0.4) = 1: drop the smallest |w|, (0,2). Grow the largest |score| outside the kept set
// {(0,0), (1,1)}: with scores [[9, 1, 5], [2, 9, -7]] the candidates are (0,1) 1, (0,2) 5, (1,0) 2, (1,2) |-7| = 7,
// so (1,2) is grown with weight 0. With (0,2)'s score raised to 8 the just-dropped (0,2) wins and keeps -0.1.
TEST(Updater, ScoreGrowHandComputed) {
  for (const bool regrow : {false, true}) {
    SparseParameter w("fc.weight", CsrMatrix::FromParts(2, 3, {0, 2, 3}, {0, 2, 1}, {0.5f, -0.1f, 0.3f}));
    const std::vector<float> scores = {9, 1, regrow ? 8.0f : 5.0f, 2, 9, -7};
    rigl::UpdateOptions o;
    o.mode = rigl::GrowMode::kScores;
    o.scores = [&scores](int64_t r0, int64_t r1, engine::DenseView out) {
      for (int64_t i = r0; i < r1; ++i) std::copy(scores.begin() + i * 3, scores.begin() + (i + 1) * 3, out.row(i - r0));
    };
    rigl::UpdateLayer(w, 0.4f, o, nullptr, nullptr);
    const std::map<int64_t, float> want =
        regrow ? std::map<int64_t, float>{{0, 0.5f}, {2, -0.1f}, {4, 0.3f}}
               : std::map<int64_t, float>{{0, 0.5f}, {4, 0.3f}, {5, 0.0f}};
    EXPECT_EQ(Entries(w.weight()), want) << (regrow ? "the just-dropped position regrown" : "a new position grown");
  }
}

// --- Global ranking across layers (rigl_global) ---

rigl::RowTileFn ServeRows(const std::vector<float>* scores, int64_t cols) {
  return [scores, cols](int64_t r0, int64_t r1, engine::DenseView out) {
    for (int64_t i = r0; i < r1; ++i) std::copy(scores->begin() + i * cols, scores->begin() + (i + 1) * cols, out.row(i - r0));
  };
}

// By hand. Layer A, 2 x 2, every cell stored: |w| = [0.1, 0.5, 0.2, 0.9], floor 1. Layer B, 2 x 3, cells 0, 2, 4
// stored: |w| = [0.05, 0.3, 0.15], floor 2. k = 3: the three smallest over both layers would be B's 0.05 and 0.15
// and A's 0.1, but B's floor lets it lose one only, so A loses 0.1 and 0.2 (positions 0 and 2) and B 0.05 (position
// 0). Grow 3 among cells not kept (A: cells 0 and 2, just dropped; B: cells 0, 1, 3, 5), by |score|:
// A = [0.7 . / 0.05 .], B = [0.6 0.9 . / 0.65 . 0.01]: B's 0.9 (cell 1), A's 0.7 (cell 0), B's 0.65 (cell 3).
TEST(GlobalRanking, HandComputedDropsAndGrowsRespectTheFloor) {
  const CsrMatrix a = CsrMatrix::FromParts(2, 2, {0, 2, 4}, {0, 1, 0, 1}, {0.1f, -0.5f, 0.2f, 0.9f});
  const CsrMatrix b = CsrMatrix::FromParts(2, 3, {0, 2, 3}, {0, 2, 1}, {-0.05f, 0.3f, 0.15f});
  const std::vector<float> ma = {0.1f, 0.5f, 0.2f, 0.9f}, mb = {0.05f, 0.3f, 0.15f};
  const std::vector<float> ga = {0.7f, 5.0f, -0.05f, 5.0f}, gb = {0.6f, -0.9f, 5.0f, 0.65f, 5.0f, 0.01f};
  std::vector<rigl::GlobalLayerInput> in(2);
  in[0] = {engine::PatternOf(a), ma.data(), 1, ServeRows(&ga, 2)};
  in[1] = {engine::PatternOf(b), mb.data(), 2, ServeRows(&gb, 3)};
  const std::vector<rigl::GlobalChoice> c = rigl::SelectAcrossLayers(in, 3, 0);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].drop, (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(c[1].drop, (std::vector<int64_t>{0}));
  EXPECT_EQ(c[0].grow_flat, (std::vector<int64_t>{0}));
  EXPECT_EQ(c[1].grow_flat, (std::vector<int64_t>{1, 3}));
  // Resolved: A's cell 0 is regrown, so it survives; A loses one net (nnz 3), B gains one (nnz 4); 7 in all.
  const rigl::LayerEdit ea = rigl::ResolveRegrown(in[0].pattern, c[0].drop, c[0].grow_flat, ma, "a");
  EXPECT_EQ(ea.drop, (std::vector<int64_t>{2}));
  EXPECT_TRUE(ea.grow.empty());
  const rigl::LayerEdit eb = rigl::ResolveRegrown(in[1].pattern, c[1].drop, c[1].grow_flat, mb, "b");
  EXPECT_EQ(eb.drop, (std::vector<int64_t>{0}));
  EXPECT_EQ(eb.grown_flat, (std::vector<int64_t>{1, 3}));
  // Without B's floor its 0.15 goes instead of A's 0.2.
  in[1].floor = 0;
  EXPECT_EQ(rigl::SelectAcrossLayers(in, 3, 0)[1].drop, (std::vector<int64_t>{0, 2}));
  // Floors that leave nothing to drop: nothing moves.
  in[0].floor = 4;
  in[1].floor = 3;
  const std::vector<rigl::GlobalChoice> none = rigl::SelectAcrossLayers(in, 3, 0);
  EXPECT_TRUE(none[0].drop.empty() && none[0].grow_flat.empty() && none[1].drop.empty() && none[1].grow_flat.empty());
}

// Random layers with many ties (values on a coarse grid, NaN scores) against a brute force: every stored entry of
// every layer sorted by (|w|, layer, position), taken while its layer is above its floor, until k; then every
// eligible cell of every layer sorted by (-|score|, layer, cell), NaN never, the first as many as were dropped.
TEST(GlobalRanking, EqualsABruteForceSortOverAllLayers) {
  engine::Rng rng(16);
  for (int trial = 0; trial < 60; ++trial) {
    const int layers = 1 + static_cast<int>(rng.UniformInt(4));
    std::vector<CsrMatrix> w;
    std::vector<std::vector<float>> mags, scores;
    std::vector<rigl::GlobalLayerInput> in(layers);
    int64_t total = 0;
    for (int l = 0; l < layers; ++l) {
      const int64_t rows = 1 + rng.UniformInt(12), cols = 1 + rng.UniformInt(12);
      w.push_back(testutil::RandomCsr(rows, cols, 0.1 + 0.8 * rng.UniformFloat(0, 1), rng));
      mags.emplace_back(w[l].nnz());
      for (float& m : mags[l]) m = static_cast<float>(rng.UniformInt(6)) * 0.25f;
      scores.emplace_back(rows * cols);
      for (float& g : scores[l]) {
        g = (static_cast<float>(rng.UniformInt(7)) - 3.0f) * 0.5f;
        if (rng.UniformInt(20) == 0) g = std::numeric_limits<float>::quiet_NaN();
      }
      total += w[l].nnz();
    }
    for (int l = 0; l < layers; ++l) {
      const auto floor = static_cast<int64_t>(rng.UniformInt(w[l].nnz() + 1));
      in[l] = {engine::PatternOf(w[l]), mags[l].data(), floor, ServeRows(&scores[l], w[l].cols())};
    }
    const int64_t k = rng.UniformInt(total + 1);
    // Brute-force drops.
    struct Entry {
      float key;
      int layer;
      int64_t index;
    };
    std::vector<Entry> stored;
    for (int l = 0; l < layers; ++l) {
      for (int64_t p = 0; p < w[l].nnz(); ++p) stored.push_back({mags[l][p], l, p});
    }
    std::stable_sort(stored.begin(), stored.end(), [](const Entry& x, const Entry& y) { return x.key < y.key; });
    std::vector<std::vector<int64_t>> want_drop(layers);
    std::vector<int64_t> room(layers);
    for (int l = 0; l < layers; ++l) room[l] = w[l].nnz() - in[l].floor;
    int64_t dropped = 0;
    for (const Entry& e : stored) {
      if (dropped == k) break;
      if (room[e.layer] == 0) continue;
      --room[e.layer];
      want_drop[e.layer].push_back(e.index);
      ++dropped;
    }
    // Brute-force grows: cells not stored, or stored and dropped.
    std::vector<Entry> cells;
    for (int l = 0; l < layers; ++l) {
      std::sort(want_drop[l].begin(), want_drop[l].end());
      std::set<int64_t> kept;
      const std::map<int64_t, float> entries = Entries(w[l]);
      int64_t p = 0;
      for (const auto& [flat, value] : entries) {
        if (!std::binary_search(want_drop[l].begin(), want_drop[l].end(), p)) kept.insert(flat);
        ++p;
      }
      for (int64_t f = 0; f < w[l].rows() * w[l].cols(); ++f) {
        if (!kept.count(f) && !std::isnan(scores[l][f])) cells.push_back({-std::fabs(scores[l][f]), l, f});
      }
    }
    std::stable_sort(cells.begin(), cells.end(), [](const Entry& x, const Entry& y) { return x.key < y.key; });
    std::vector<std::vector<int64_t>> want_grow(layers);
    for (int64_t t = 0; t < dropped && t < static_cast<int64_t>(cells.size()); ++t) {
      want_grow[cells[t].layer].push_back(cells[t].index);
    }
    for (int l = 0; l < layers; ++l) std::sort(want_grow[l].begin(), want_grow[l].end());
    // NaN scores can leave fewer eligible cells than drops; the selection refuses that rather than shrink the model.
    if (static_cast<int64_t>(cells.size()) < dropped) {
      EXPECT_THROW(rigl::SelectAcrossLayers(in, k, 0), engine::Error) << "trial " << trial;
      continue;
    }
    for (const int64_t tile : {int64_t{0}, int64_t{1}, int64_t{5}}) {
      const std::vector<rigl::GlobalChoice> c = rigl::SelectAcrossLayers(in, k, tile);
      for (int l = 0; l < layers; ++l) {
        EXPECT_EQ(c[l].drop, want_drop[l]) << "trial " << trial << " layer " << l << " tile " << tile;
        EXPECT_EQ(c[l].grow_flat, want_grow[l]) << "trial " << trial << " layer " << l << " tile " << tile;
      }
    }
  }
}

// MEST's drop score by hand (binary fractions, exact in float): w = [0.5, -0.125, 0.25], g = [0, 1, -0.0625],
// lambda 0.5 give |w| + 0.5 |g| = [0.5, 0.625, 0.28125]: dropping one removes position 2, where |w| alone would
// remove position 1 (small, but still learning fast).
TEST(Mest, DropScoreAddsTheGradientHandComputed) {
  const float w[] = {0.5f, -0.125f, 0.25f}, g[] = {0.0f, 1.0f, -0.0625f};
  const std::vector<float> score = rigl::MestScores(w, g, 3, 0.5f);
  EXPECT_EQ(score, (std::vector<float>{0.5f, 0.625f, 0.28125f}));
  EXPECT_EQ(rigl::LowestMagnitude(score.data(), 3, 1), std::vector<int64_t>{2});
  EXPECT_EQ(rigl::LowestMagnitude(w, 3, 1), std::vector<int64_t>{1});
}

// SNIP by hand: w = [0.5, -2, 0.1, 1], g = [1, 0.1, -10, 0.5] give saliencies |g w| = [0.5, 0.2, 1.0, 0.5]; keeping 2
// drops position 1 (0.2) and, of the tie at 0.5, the lower position 0. Ranking by |g| alone would keep 0 and 2.
TEST(Snip, DropsLowestSaliencyHandComputed) {
  const float w[] = {0.5f, -2.0f, 0.1f, 1.0f};
  const float g[] = {1.0f, 0.1f, -10.0f, 0.5f};
  EXPECT_EQ(rigl::SnipDrops(g, w, 4, 2), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(rigl::SnipDrops(g, w, 4, 4), (std::vector<int64_t>{}));
  EXPECT_EQ(rigl::SnipDrops(g, w, 4, 0), (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_THROW(rigl::SnipDrops(g, w, 4, 5), engine::Error);
}

TEST(Updater, ZeroDropFractionChangesNothing) {
  Fixture f = MakeLayer(10, 12, 0.3, 1);
  const CsrMatrix before = f.w.weight();
  const auto s = rigl::UpdateLayer(f.w, 0.0f, {}, nullptr, nullptr);
  EXPECT_EQ(s.dropped, 0);
  EXPECT_EQ(f.w.weight().col_indices(), before.col_indices());
  EXPECT_EQ(f.w.weight().topology_version(), before.topology_version());
}

TEST(Updater, MissingDenseGradientIsAClearError) {
  Fixture f = MakeLayer(10, 12, 0.3, 1);
  f.w.dense_grad_rows = nullptr;
  try {
    rigl::UpdateLayer(f.w, 0.3f, {}, nullptr, nullptr);
    FAIL() << "expected an error";
  } catch (const engine::Error& e) {
    EXPECT_NE(std::string(e.what()).find("want_dense_grad"), std::string::npos) << e.what();
  }
}

}  // namespace
