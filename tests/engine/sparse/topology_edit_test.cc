// Tests for TopologyEdit on CSR and BSR: a hand-checked edit, value and slot remapping, edits that empty or fill
// rows, strong guarantee on every rejected request, buffer reuse, and a 200-edit property test against a
// dense-mask oracle; the same for the nnz-changing pair, Prune + Compact and Grow + Expand.
#include "engine/sparse/topology_edit.h"

#include <omp.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "engine/base/check.h"
#include "tests/testutil/testutil.h"

namespace engine {
namespace {

using ::testing::HasSubstr;

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// 3 x 4:  [1 0 2 0]
//         [0 3 0 0]
//         [0 0 0 4]
CsrMatrix Small() {
  return CsrMatrix::FromParts(3, 4, {0, 2, 3, 4}, {0, 2, 1, 3}, {1.0f, 2.0f, 3.0f, 4.0f});
}

TEST(TopologyEditTest, HandCheckedEdit) {
  CsrMatrix a = Small();
  const uint64_t version = a.topology_version();
  PositionMap map;
  // Drop (0, 2) = 2 at position 1 and (2, 3) = 4 at position 3; grow (2, 0) and (0, 1).
  TopologyEdit::Apply(a, {1, 3}, {{2, 0}, {0, 1}}, &map, /*grown_value=*/7.0f);
  EXPECT_EQ(a.row_offsets(), (std::vector<int64_t>{0, 2, 3, 4}));
  EXPECT_EQ(a.col_indices(), (std::vector<int32_t>{0, 1, 1, 0}));
  EXPECT_EQ(std::vector<float>(a.values().begin(), a.values().end()), (std::vector<float>{1, 7, 3, 7}));
  EXPECT_EQ(map.old_to_new, (std::vector<int64_t>{0, -1, 2, -1}));
  EXPECT_EQ(map.grown, (std::vector<int64_t>{1, 3}));
  EXPECT_GT(a.topology_version(), version);
  EXPECT_NO_THROW(a.Validate());
  // A second per-position buffer follows the same map.
  AlignedVector<float> momentum = {10.0f, 20.0f, 30.0f, 40.0f};
  map.Remap(momentum, -1.0f);
  EXPECT_EQ(std::vector<float>(momentum.begin(), momentum.end()), (std::vector<float>{10, -1, 30, -1}));
}

TEST(TopologyEditTest, GrownValuesDefaultToZero) {
  CsrMatrix a = Small();
  PositionMap map;
  TopologyEdit::Apply(a, {0}, {{1, 0}}, &map);
  EXPECT_EQ(a.values()[a.Find(1, 0)], 0.0f);
}

TEST(TopologyEditTest, EmptyARowAndFillAnother) {
  CsrMatrix a = Small();
  PositionMap map;
  // Row 0 loses both entries; row 1 gains (1, 0) and (1, 3)... then row 2 is filled completely in a second edit.
  TopologyEdit::Apply(a, {0, 1}, {{1, 0}, {1, 3}}, &map, 5.0f);
  EXPECT_EQ(a.row_offsets(), (std::vector<int64_t>{0, 0, 3, 4}));
  EXPECT_EQ(a.col_indices(), (std::vector<int32_t>{0, 1, 3, 3}));
  TopologyEdit::Apply(a, {0, 1, 2}, {{2, 0}, {2, 1}, {2, 2}}, &map, 6.0f);
  EXPECT_EQ(a.row_offsets(), (std::vector<int64_t>{0, 0, 0, 4}));
  EXPECT_EQ(a.col_indices(), (std::vector<int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(std::vector<float>(a.values().begin(), a.values().end()), (std::vector<float>{6, 6, 6, 4}));
  EXPECT_NO_THROW(a.Validate());
}

TEST(TopologyEditTest, DropAllGrowAll) {
  // A checkerboard: drop every stored entry and grow every empty one.
  Tensor dense({6, 5});
  for (int64_t i = 0; i < 30; ++i) dense[i] = ((i / 5 + i % 5) % 2 == 0) ? static_cast<float>(i + 1) : 0.0f;
  CsrMatrix a = CsrMatrix::FromDense(dense.view());
  std::vector<int64_t> drop;
  for (int64_t p = 0; p < a.nnz(); ++p) drop.push_back(p);
  std::vector<GrowCoord> grow;
  for (int64_t i = 0; i < 6; ++i) {
    for (int32_t j = 0; j < 5; ++j) {
      if (dense[i * 5 + j] == 0.0f) grow.push_back({i, j});
    }
  }
  ASSERT_EQ(drop.size(), grow.size());
  PositionMap map;
  TopologyEdit::Apply(a, drop, grow, &map, 1.5f);
  EXPECT_NO_THROW(a.Validate());
  const Tensor after = a.ToDense();
  for (int64_t i = 0; i < 30; ++i) EXPECT_EQ(after[i], dense[i] == 0.0f ? 1.5f : 0.0f) << "flat index " << i;
  for (int64_t q : map.old_to_new) EXPECT_EQ(q, -1);
}

// Snapshot of everything an edit may change.
struct Snapshot {
  std::vector<int64_t> offsets;
  std::vector<int32_t> indices;
  std::vector<uint32_t> value_bits;
  uint64_t version;
};

Snapshot Take(const CsrMatrix& a) {
  Snapshot s{a.row_offsets(), a.col_indices(), std::vector<uint32_t>(a.nnz()), a.topology_version()};
  std::memcpy(s.value_bits.data(), a.values().data(), sizeof(float) * a.nnz());
  return s;
}

void ExpectSame(const Snapshot& x, const Snapshot& y, const std::string& context) {
  EXPECT_EQ(x.offsets, y.offsets) << context;
  EXPECT_EQ(x.indices, y.indices) << context;
  EXPECT_EQ(x.value_bits, y.value_bits) << context;
  EXPECT_EQ(x.version, y.version) << context;
}

// On a matrix over 2^16 entries the validation's fast check runs on several threads; a stored or repeated grow
// coordinate in its last row must still be found and named, the matrix left as it was.
TEST(TopologyEditTest, LargeRejectedRequestsAreNamedToo) {
  Rng rng(77);
  const CsrMatrix original = testutil::RandomCsr(300, 300, 0.8, rng);
  ASSERT_GT(original.nnz(), int64_t{1} << 16);
  const int64_t last = 299;
  int32_t stored_col = -1, free_col = -1;
  for (int32_t j = 0; j < 300; ++j) {
    if (original.Find(last, j) >= 0) stored_col = j;
    else if (free_col < 0) free_col = j;
  }
  ASSERT_GE(stored_col, 0);
  ASSERT_GE(free_col, 0);
  struct Bad { std::vector<GrowCoord> grow; std::string message; };
  const Bad cases[] = {
      {{{0, free_col}, {last, stored_col}}, "grow coordinate (299, " + std::to_string(stored_col) + ") given (grow[1]) "
                                            "is already stored"},
      {{{last, free_col}, {last, free_col}}, "grow coordinate (299, " + std::to_string(free_col) + ") given twice"},
  };
  const int threads_before = omp_get_max_threads();
  for (const Bad& b : cases) {
    for (const int threads : {1, 2}) {
      omp_set_num_threads(threads);
      CsrMatrix a = original;
      const Snapshot before = Take(a);
      PositionMap map;
      const std::string message = ErrorOf([&] { TopologyEdit::Apply(a, {0, 1}, b.grow, &map, 0.0f, "big"); });
      EXPECT_THAT(message, HasSubstr(b.message)) << "threads " << threads;
      ExpectSame(before, Take(a), message);
    }
  }
  omp_set_num_threads(threads_before);
}

TEST(TopologyEditTest, RejectedRequestsLeaveTheMatrixUntouched) {
  struct Bad { std::vector<int64_t> drop; std::vector<GrowCoord> grow; std::vector<const char*> message; };
  const Bad cases[] = {
      {{0}, {}, {"layer1.weight", "1 drop positions and 0 grow coordinates", "equal counts"}},
      {{4}, {{1, 0}}, {"layer1.weight", "drop position 4", "0 <= position < nnz = 4"}},
      {{-1}, {{1, 0}}, {"layer1.weight", "drop position -1", "0 <= position < nnz"}},
      {{2, 2}, {{1, 0}, {1, 2}}, {"layer1.weight", "drop position 2 given twice", "unique drop positions"}},
      {{0}, {{3, 0}}, {"layer1.weight", "grow coordinate (3, 0)", "0 <= row < 3"}},
      {{0}, {{0, 4}}, {"layer1.weight", "grow coordinate (0, 4)", "0 <= col < 4"}},
      {{0}, {{-1, 1}}, {"layer1.weight", "grow coordinate (-1, 1)"}},
      {{0}, {{1, 1}}, {"layer1.weight", "grow coordinate (1, 1)", "already stored at position 2", "not currently"}},
      // Dropping and regrowing the same coordinate is not allowed (drop and grow must be disjoint).
      {{0}, {{0, 0}}, {"layer1.weight", "grow coordinate (0, 0)", "already stored at position 0", "disjoint"}},
      {{0, 1}, {{1, 0}, {1, 0}}, {"layer1.weight", "grow coordinate (1, 0) given twice", "unique grow"}},
  };
  for (const Bad& b : cases) {
    CsrMatrix a = Small();
    const Snapshot before = Take(a);
    PositionMap map;
    const std::string message = ErrorOf([&] { TopologyEdit::Apply(a, b.drop, b.grow, &map, 0.0f, "layer1.weight"); });
    for (const char* part : b.message) EXPECT_THAT(message, HasSubstr(part));
    ExpectSame(before, Take(a), message);
  }
  CsrMatrix a = Small();
  EXPECT_THAT(ErrorOf([&] { TopologyEdit::Apply(a, {0}, {{1, 0}}, nullptr); }), HasSubstr("null PositionMap"));
}

TEST(TopologyEditTest, ReusesBuffersWhenWarm) {
  Rng rng(8);
  CsrMatrix a = testutil::RandomCsr(20, 20, 0.3, rng);
  PositionMap map;
  auto random_edit = [&](int64_t count) {
    std::vector<int64_t> drop;
    for (int64_t p = 0; p < a.nnz() && static_cast<int64_t>(drop.size()) < count; p += 3) drop.push_back(p);
    std::vector<GrowCoord> grow;
    for (int64_t i = 0; i < 20 && static_cast<int64_t>(grow.size()) < count; ++i) {
      for (int32_t j = 0; j < 20 && static_cast<int64_t>(grow.size()) < count; ++j) {
        if (a.Find(i, j) < 0 && rng.Uniform() < 0.3) grow.push_back({i, j});
      }
    }
    drop.resize(grow.size());
    TopologyEdit::Apply(a, drop, grow, &map);
  };
  random_edit(10);  // warms the map
  AlignedVector<float> slot(a.nnz(), 1.0f);
  map.Remap(slot);
  const int64_t* offsets = a.row_offsets().data();
  const int32_t* indices = a.col_indices().data();
  const float* values = a.values().data();
  const int64_t* old_to_new = map.old_to_new.data();
  const float* scratch = map.scratch.data();
  const float* slot_data = slot.data();
  for (int round = 0; round < 5; ++round) {
    random_edit(10);
    map.Remap(slot);
    EXPECT_EQ(a.row_offsets().data(), offsets);
    EXPECT_EQ(a.col_indices().data(), indices);
    EXPECT_EQ(a.values().data(), values);
    EXPECT_EQ(map.old_to_new.data(), old_to_new);
    EXPECT_EQ(map.scratch.data(), scratch);
    EXPECT_EQ(slot.data(), slot_data);
  }
}

// Random drop/grow sets of a random size for a pattern given as a dense mask.
void RandomRequest(int64_t rows, int64_t cols, const std::vector<char>& mask, int64_t nnz, Rng& rng,
                   std::vector<int64_t>* drop, std::vector<GrowCoord>* grow) {
  const int64_t max_swap = std::min(nnz, rows * cols - nnz);
  const int64_t count = max_swap == 0 ? 0 : static_cast<int64_t>(rng.UniformInt(max_swap + 1));
  std::vector<int64_t> positions(nnz);
  for (int64_t p = 0; p < nnz; ++p) positions[p] = p;
  std::vector<GrowCoord> empty;
  for (int64_t f = 0; f < rows * cols; ++f) {
    if (!mask[f]) empty.push_back({f / cols, static_cast<int32_t>(f % cols)});
  }
  // Partial Fisher-Yates shuffles pick `count` of each, in random order.
  drop->clear();
  grow->clear();
  for (int64_t t = 0; t < count; ++t) {
    std::swap(positions[t], positions[t + rng.UniformInt(nnz - t)]);
    std::swap(empty[t], empty[t + rng.UniformInt(empty.size() - t)]);
    drop->push_back(positions[t]);
    grow->push_back(empty[t]);
  }
}

TEST(TopologyEditTest, RandomEditsMatchADenseMaskOracle) {
  Rng rng(2024);
  for (int edit = 0; edit < 203; ++edit) {
    // The last three are large enough (over 2^16 positions) for Remap's parallel path.
    const bool large = edit >= 200;
    const int64_t rows = large ? 300 : 1 + rng.UniformInt(9), cols = large ? 300 : 1 + rng.UniformInt(9);
    const int64_t nnz = large ? 70000 + rng.UniformInt(20000) : rng.UniformInt(rows * cols + 1);
    CsrMatrix a = CsrMatrix::RandomPattern(rows, cols, nnz, rng);
    for (float& v : a.mutable_values()) v = rng.UniformFloat(-1.0f, 1.0f);
    // Oracle state: dense values and a dense slot, indexed by (row, col).
    const Tensor values_before = a.ToDense();
    std::vector<char> mask(rows * cols, 0);
    std::vector<float> slot_dense(rows * cols, 0.0f);
    AlignedVector<float> slot(a.nnz());
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t p = a.row_offsets()[i]; p < a.row_offsets()[i + 1]; ++p) {
        mask[i * cols + a.col_indices()[p]] = 1;
        slot[p] = rng.UniformFloat(-1.0f, 1.0f);
        slot_dense[i * cols + a.col_indices()[p]] = slot[p];
      }
    }
    std::vector<int64_t> drop;
    std::vector<GrowCoord> grow;
    RandomRequest(rows, cols, mask, nnz, rng, &drop, &grow);
    // Expected dense after the edit.
    std::vector<float> expected(values_before.data(), values_before.data() + rows * cols);
    std::vector<float> expected_slot = slot_dense;
    for (int64_t p : drop) {
      int64_t i = 0;
      while (a.row_offsets()[i + 1] <= p) ++i;
      const int64_t f = i * cols + a.col_indices()[p];
      mask[f] = 0;
      expected[f] = 0.0f;
      expected_slot[f] = 0.0f;
    }
    for (const GrowCoord& g : grow) {
      mask[g.row * cols + g.col] = 1;
      expected[g.row * cols + g.col] = 0.25f;
      expected_slot[g.row * cols + g.col] = -3.0f;
    }
    PositionMap map;
    TopologyEdit::Apply(a, drop, grow, &map, 0.25f);
    map.Remap(slot, -3.0f);
    const std::string context = "edit " + std::to_string(edit);
    ASSERT_NO_THROW(a.Validate()) << context;
    ASSERT_EQ(a.nnz(), nnz) << context;
    const Tensor after = a.ToDense();
    EXPECT_TRUE(testutil::BitIdentical(after.data(), expected.data(), rows * cols)) << context;
    for (int64_t i = 0; i < rows; ++i) {
      for (int32_t j = 0; j < cols; ++j) {
        const int64_t p = a.Find(i, j);
        EXPECT_EQ(p >= 0, mask[i * cols + j] != 0) << context << " at (" << i << ", " << j << ")";
        if (p >= 0) {
          EXPECT_EQ(slot[p], expected_slot[i * cols + j]) << context << " slot at (" << i << ", " << j << ")";
        }
      }
    }
  }
}

// --- Prune and Grow: the edits that change nnz (pruning, global drop-and-grow) ---

TEST(TopologyEditTest, HandCheckedPruneAndGrow) {
  CsrMatrix a = Small();
  PositionMap map;
  // Prune (0, 2) = 2 at position 1: [1 0 0 0] [0 3 0 0] [0 0 0 4].
  TopologyEdit::Prune(a, {1}, &map);
  EXPECT_EQ(a.row_offsets(), (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(map.old_to_new, (std::vector<int64_t>{0, -1, 1, 2}));
  AlignedVector<float> slot = {10.0f, 20.0f, 30.0f, 40.0f};
  map.Compact(slot);
  EXPECT_EQ(std::vector<float>(slot.begin(), slot.end()), (std::vector<float>{10, 30, 40}));
  // Grow (2, 0), (0, 3) and (1, 0), given out of order: [1 0 0 7] [7 3 0 0] [7 0 0 4].
  const uint64_t version = a.topology_version();
  TopologyEdit::Grow(a, {{2, 0}, {0, 3}, {1, 0}}, &map, /*grown_value=*/7.0f);
  EXPECT_EQ(a.row_offsets(), (std::vector<int64_t>{0, 2, 4, 6}));
  EXPECT_EQ(a.col_indices(), (std::vector<int32_t>{0, 3, 0, 1, 0, 3}));
  EXPECT_EQ(std::vector<float>(a.values().begin(), a.values().end()), (std::vector<float>{1, 7, 7, 3, 7, 4}));
  EXPECT_EQ(map.old_to_new, (std::vector<int64_t>{0, 3, 5}));
  EXPECT_EQ(map.grown, (std::vector<int64_t>{1, 2, 4}));
  EXPECT_GT(a.topology_version(), version);
  EXPECT_NO_THROW(a.Validate());
  map.Expand(slot, -1.0f);
  EXPECT_EQ(std::vector<float>(slot.begin(), slot.end()), (std::vector<float>{10, -1, -1, 30, -1, 40}));
}

TEST(TopologyEditTest, RejectedGrowsLeaveTheMatrixUntouched) {
  struct Case {
    std::vector<GrowCoord> grow;
    const char* message;
  };
  const std::vector<Case> cases = {
      {{{3, 0}}, "grow coordinate (3, 0) given (grow[0]); expected 0 <= row < 3 and 0 <= col < 4"},
      {{{0, -1}}, "grow coordinate (0, -1) given"},
      {{{1, 0}, {1, 1}}, "grow coordinate (1, 1) given (grow[1]) is already stored"},
      {{{1, 2}, {2, 0}, {1, 2}}, "grow coordinate (1, 2) listed twice"},
  };
  for (const Case& c : cases) {
    CsrMatrix a = Small();
    const Tensor before = a.ToDense();
    const uint64_t version = a.topology_version();
    PositionMap map;
    const std::string error = ErrorOf([&] { TopologyEdit::Grow(a, c.grow, &map, 1.0f, "fc9"); });
    EXPECT_THAT(error, HasSubstr(std::string("fc9: ") + c.message));
    EXPECT_EQ(a.nnz(), 4);
    EXPECT_EQ(a.topology_version(), version);
    EXPECT_TRUE(testutil::BitIdentical(a.ToDense().data(), before.data(), 12));
  }
}

TEST(TopologyEditTest, RandomPrunesAndGrowsMatchADenseMaskOracle) {
  Rng rng(77);
  for (int edit = 0; edit < 200; ++edit) {
    const int64_t rows = 1 + rng.UniformInt(9), cols = 1 + rng.UniformInt(9);
    CsrMatrix a = CsrMatrix::RandomPattern(rows, cols, rng.UniformInt(rows * cols + 1), rng);
    for (float& v : a.mutable_values()) v = rng.UniformFloat(-1.0f, 1.0f);
    // Oracle: dense values and a dense slot; a random prune, then a random grow among the cells then free.
    const Tensor before = a.ToDense();
    std::vector<float> expected(before.data(), before.data() + rows * cols);
    std::vector<float> expected_slot(rows * cols, 0.0f);
    AlignedVector<float> slot(a.nnz());
    std::vector<int64_t> drop;
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t p = a.row_offsets()[i]; p < a.row_offsets()[i + 1]; ++p) {
        const int64_t f = i * cols + a.col_indices()[p];
        slot[p] = expected_slot[f] = rng.UniformFloat(-1.0f, 1.0f);
        if (rng.UniformInt(3) == 0) {
          drop.push_back(p);
          expected[f] = expected_slot[f] = 0.0f;
        }
      }
    }
    PositionMap map;
    TopologyEdit::Prune(a, drop, &map);
    map.Compact(slot);
    std::vector<GrowCoord> grow;
    for (int64_t i = 0; i < rows; ++i) {
      for (int32_t j = 0; j < cols; ++j) {
        if (a.Find(i, j) < 0 && rng.UniformInt(2) == 0) {
          grow.push_back({i, j});
          expected[i * cols + j] = 0.5f;
          expected_slot[i * cols + j] = -2.0f;
        }
      }
    }
    std::shuffle(grow.begin(), grow.end(), std::mt19937(edit));  // any order is accepted
    const int64_t pruned_nnz = a.nnz();
    TopologyEdit::Grow(a, grow, &map, 0.5f);
    map.Expand(slot, -2.0f);
    const std::string context = "edit " + std::to_string(edit);
    ASSERT_NO_THROW(a.Validate()) << context;
    ASSERT_EQ(a.nnz(), pruned_nnz + static_cast<int64_t>(grow.size())) << context;
    ASSERT_EQ(slot.size(), static_cast<size_t>(a.nnz())) << context;
    EXPECT_TRUE(testutil::BitIdentical(a.ToDense().data(), expected.data(), rows * cols)) << context;
    for (int64_t i = 0; i < rows; ++i) {
      for (int32_t j = 0; j < cols; ++j) {
        const int64_t p = a.Find(i, j);
        if (p >= 0) {
          EXPECT_EQ(slot[p], expected_slot[i * cols + j]) << context << " slot at (" << i << ", " << j << ")";
        }
      }
    }
  }
}

// --- BSR at block granularity ---

TEST(TopologyEditBsrTest, BlockEditMovesWholeBlocksAndZeroesPadding) {
  // 5 x 3 matrix in 2 x 2 blocks: a 3 x 2 block grid; stored blocks (0, 0), (1, 1), (2, 0).
  std::vector<float> values(12);
  for (int i = 0; i < 12; ++i) values[i] = static_cast<float>(i + 1);
  BsrMatrix a = BsrMatrix::FromParts(5, 3, 2, 2, {0, 1, 2, 3}, {0, 1, 0}, values);
  const std::vector<float> block0(values.begin(), values.begin() + 4);
  PositionMap map;
  // Drop block position 1 (block (1, 1)); grow block (2, 1), which is padding in row 5 and column 3.
  TopologyEdit::Apply(a, {1}, {{2, 1}}, &map, 9.0f);
  EXPECT_EQ(map.width, 4);
  EXPECT_EQ(a.block_row_offsets(), (std::vector<int64_t>{0, 1, 1, 3}));
  EXPECT_EQ(a.block_col_indices(), (std::vector<int32_t>{0, 0, 1}));
  EXPECT_TRUE(testutil::BitIdentical(a.values().data(), block0.data(), 4));
  // Grown block (2, 1): only entry (4, 2) lies inside the matrix.
  EXPECT_EQ(std::vector<float>(a.values().begin() + 8, a.values().end()), (std::vector<float>{9, 0, 0, 0}));
  EXPECT_EQ(a.entries(), 4 + 2 + 1);
  EXPECT_NO_THROW(a.Validate());
  AlignedVector<float> slot(12);
  for (int i = 0; i < 12; ++i) slot[i] = static_cast<float>(100 + i);
  map.Remap(slot, 0.0f);
  EXPECT_EQ(std::vector<float>(slot.begin(), slot.end()),
            (std::vector<float>{100, 101, 102, 103, 108, 109, 110, 111, 0, 0, 0, 0}));
}

TEST(TopologyEditBsrTest, RejectedRequestsLeaveTheMatrixUntouched) {
  Rng rng(3);
  const BsrMatrix original = BsrMatrix::RandomPattern(16, 16, 4, 4, 6, rng);
  struct Bad { std::vector<int64_t> drop; std::vector<GrowCoord> grow; const char* message; };
  const int32_t stored_col = original.block_col_indices()[0];
  int64_t stored_row = 0;
  while (original.block_row_offsets()[stored_row + 1] == 0) ++stored_row;
  const Bad cases[] = {
      {{6}, {{0, 0}}, "block drop position 6"},
      {{0}, {{4, 0}}, "block grow coordinate (4, 0)"},
      {{0}, {{stored_row, stored_col}}, "already stored at block position 0"},
      {{0, 0}, {{0, 0}, {0, 1}}, "given twice"},
      {{0}, {}, "equal counts"},
  };
  for (const Bad& b : cases) {
    BsrMatrix a = original;
    PositionMap map;
    const std::string message = ErrorOf([&] { TopologyEdit::Apply(a, b.drop, b.grow, &map, 0.0f, "conv.w"); });
    EXPECT_THAT(message, HasSubstr(b.message));
    EXPECT_THAT(message, HasSubstr("conv.w"));
    EXPECT_EQ(a.block_row_offsets(), original.block_row_offsets()) << message;
    EXPECT_EQ(a.block_col_indices(), original.block_col_indices()) << message;
    EXPECT_EQ(a.topology_version(), original.topology_version()) << message;
  }
}

TEST(TopologyEditBsrTest, RandomBlockEditsMatchADenseOracle) {
  Rng rng(77);
  for (int edit = 0; edit < 60; ++edit) {
    const int64_t br = 1 + rng.UniformInt(4), bc = 1 + rng.UniformInt(3);
    const int64_t rows = 1 + rng.UniformInt(13), cols = 1 + rng.UniformInt(11);
    BsrMatrix probe(rows, cols, br, bc);
    const int64_t grid_rows = probe.row_blocks(), grid_cols = probe.col_blocks();
    const int64_t nnzb = rng.UniformInt(grid_rows * grid_cols + 1);
    BsrMatrix a = BsrMatrix::RandomPattern(rows, cols, br, bc, nnzb, rng);
    for (float& v : a.mutable_values()) v = rng.UniformFloat(0.5f, 1.0f);
    std::vector<char> mask(grid_rows * grid_cols, 0);
    for (int64_t ib = 0; ib < grid_rows; ++ib) {
      for (int64_t p = a.block_row_offsets()[ib]; p < a.block_row_offsets()[ib + 1]; ++p) {
        mask[ib * grid_cols + a.block_col_indices()[p]] = 1;
      }
    }
    std::vector<int64_t> drop;
    std::vector<GrowCoord> grow;
    RandomRequest(grid_rows, grid_cols, mask, nnzb, rng, &drop, &grow);
    const Tensor before = a.ToDense();
    std::vector<float> expected(before.data(), before.data() + rows * cols);
    auto fill_block = [&](int64_t ib, int64_t jb, float v) {
      for (int64_t i = ib * br; i < std::min(rows, (ib + 1) * br); ++i) {
        for (int64_t j = jb * bc; j < std::min(cols, (jb + 1) * bc); ++j) expected[i * cols + j] = v;
      }
    };
    for (int64_t p : drop) {
      int64_t ib = 0;
      while (a.block_row_offsets()[ib + 1] <= p) ++ib;
      fill_block(ib, a.block_col_indices()[p], 0.0f);
    }
    for (const GrowCoord& g : grow) fill_block(g.row, g.col, -0.5f);
    PositionMap map;
    TopologyEdit::Apply(a, drop, grow, &map, -0.5f);
    const std::string context = "edit " + std::to_string(edit);
    ASSERT_NO_THROW(a.Validate()) << context;
    ASSERT_EQ(a.nnz_blocks(), nnzb) << context;
    const Tensor after = a.ToDense();
    EXPECT_TRUE(testutil::BitIdentical(after.data(), expected.data(), rows * cols)) << context;
    const BsrMatrix rebuilt = BsrMatrix::FromCsr(a.ToCsr(), br, bc);
    EXPECT_EQ(a.entries(), rebuilt.entries()) << context;
  }
}

}  // namespace
}  // namespace engine
