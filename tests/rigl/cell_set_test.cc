// CellSet (the ever-active history) against std::set: random sorted batches added across the list-to-bitmap switch,
// with size, representation and members checked after every batch; and its input checks.
#include "rigl/cell_set.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

#include "engine/base/check.h"

namespace {

std::vector<int64_t> RandomSorted(std::mt19937_64& gen, int64_t cells, int64_t n) {
  std::set<int64_t> s;
  std::uniform_int_distribution<int64_t> cell(0, cells - 1);
  while (static_cast<int64_t>(s.size()) < n) s.insert(cell(gen));
  return {s.begin(), s.end()};
}

TEST(CellSet, MatchesAStdSetAcrossTheSwitchToABitmap) {
  for (const int64_t cells : {int64_t{1}, int64_t{63}, int64_t{64}, int64_t{65}, int64_t{1000}, int64_t{4099}}) {
    std::mt19937_64 gen(static_cast<uint64_t>(cells));
    std::set<int64_t> oracle;
    rigl::CellSet set;
    const std::vector<int64_t> start = RandomSorted(gen, cells, std::min<int64_t>(cells, 1 + cells / 200));
    set.Assign(cells, start);
    oracle.insert(start.begin(), start.end());
    bool saw_list = false, saw_bitmap = false;
    for (int batch = 0; batch < 40; ++batch) {
      // The bitmap is chosen exactly when the list would be larger: 8 bytes a member against cells / 8 bytes.
      // (The set only grows, so "it switched once it was larger" is "it is a bitmap exactly while larger".)
      EXPECT_EQ(set.is_bitmap(), set.size() * 64 > cells) << cells << " cells, " << set.size() << " members";
      saw_list |= !set.is_bitmap();
      saw_bitmap |= set.is_bitmap();
      const int64_t n = std::uniform_int_distribution<int64_t>(0, std::max<int64_t>(1, cells / 30))(gen);
      const std::vector<int64_t> add = RandomSorted(gen, cells, std::min(n, cells));
      set.Add(add);
      oracle.insert(add.begin(), add.end());
      ASSERT_EQ(set.size(), static_cast<int64_t>(oracle.size())) << cells << " cells, batch " << batch;
      ASSERT_EQ(set.Sorted(), std::vector<int64_t>(oracle.begin(), oracle.end())) << cells << " cells, batch " << batch;
    }
    if (cells >= 1000) {
      EXPECT_TRUE(saw_list) << cells;
      EXPECT_TRUE(saw_bitmap) << cells;
    }
    EXPECT_EQ(set.cells(), cells);
  }
}

TEST(CellSet, ALargeStartIsABitmapAndAnEmptyOneAList) {
  rigl::CellSet set;
  set.Assign(640, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});  // 10 members of 640 cells: 80 bytes = the bitmap's 80
  EXPECT_FALSE(set.is_bitmap());
  set.Add({639});
  EXPECT_TRUE(set.is_bitmap());
  EXPECT_EQ(set.size(), 11);
  set.Add({0, 639});  // both already in
  EXPECT_EQ(set.size(), 11);
  set.Assign(640, {});
  EXPECT_FALSE(set.is_bitmap());
  EXPECT_TRUE(set.empty());
  EXPECT_TRUE(set.Sorted().empty());
}

TEST(CellSet, RefusesCellsOutOfRangeOrOutOfOrder) {
  rigl::CellSet set;
  EXPECT_THROW(set.Assign(10, {3, 10}), engine::Error);
  EXPECT_THROW(set.Assign(10, {-1}), engine::Error);
  EXPECT_THROW(set.Assign(10, {4, 4}), engine::Error);
  EXPECT_THROW(set.Assign(10, {5, 2}), engine::Error);
  set.Assign(10, {1});
  EXPECT_THROW(set.Add({7, 3}), engine::Error);
  EXPECT_THROW(set.Add({11}), engine::Error);
  EXPECT_EQ(set.Sorted(), std::vector<int64_t>({1}));
  try {
    set.Assign(10, {2, 12}, "history:fc1.weight.ever_active");
    FAIL() << "no error";
  } catch (const engine::Error& e) {
    EXPECT_NE(std::string(e.what()).find("history:fc1.weight.ever_active: entry 1 is 12"), std::string::npos)
        << e.what();
  }
}

}  // namespace
