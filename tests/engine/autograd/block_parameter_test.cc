// A blocked (BSR) SparseParameter by hand: its storage-neutral accessors (counts, padding, block norms, the block-grid
// pattern) and the parameter-level edits (drop/grow and prune of whole blocks) carrying values and gradients across.
#include <gtest/gtest.h>

#include <vector>

#include "engine/autograd/parameter.h"
#include "engine/base/check.h"
#include "engine/sparse/topology_edit.h"

namespace engine {
namespace {

// The storage-neutral accessors on a hand-made 5 x 3 weight in 2x1 blocks: blocks (0, 0), (0, 2), (2, 1); block row
// 2 covers row 4 only (row 5 is padding).
TEST(BlockSparseParameter, AccessorsByHand) {
  BsrMatrix m = BsrMatrix::FromParts(5, 3, 2, 1, {0, 2, 2, 3}, {0, 2, 1}, {3.0f, 4.0f, 0.0f, 1.0f, 2.0f, 0.0f});
  SparseParameter w("fc.weight", std::move(m));
  EXPECT_EQ(w.positions(), 3);
  EXPECT_EQ(w.stored(), 6);
  EXPECT_EQ(w.entries(), 5);  // the padding entry of the last block row is not a weight
  EXPECT_EQ(w.width(), 2);
  EXPECT_DOUBLE_EQ(w.density(), 5.0 / 15.0);
  const std::vector<float> norms = w.PositionMagnitudes();
  ASSERT_EQ(norms.size(), 3u);
  EXPECT_FLOAT_EQ(norms[0], 5.0f);  // |(3, 4)|
  EXPECT_FLOAT_EQ(norms[1], 1.0f);  // |(0, 1)|
  EXPECT_FLOAT_EQ(norms[2], 2.0f);  // |(2, padding)|
  const PatternView g = w.pattern();
  EXPECT_EQ(g.rows, 3);
  EXPECT_EQ(g.cols, 3);
  EXPECT_EQ(g.Find(0, 2), 1);
  EXPECT_EQ(g.Find(1, 0), -1);
  EXPECT_EQ(g.Find(2, 1), 2);
  EXPECT_THROW(w.weight(), Error);
  const CsrMatrix csr = w.ToCsr();
  EXPECT_EQ(csr.nnz(), 5);
  EXPECT_EQ(csr.ToDense()[1 * 3 + 2], 1.0f);
}

TEST(BlockSparseParameter, DropGrowAndPruneMoveWholeBlocksWithTheirGradients) {
  BsrMatrix m = BsrMatrix::FromParts(4, 4, 2, 2, {0, 2, 3}, {0, 1, 1},
                                     {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  SparseParameter w("fc.weight", std::move(m));
  for (size_t e = 0; e < w.grad.size(); ++e) w.grad[e] = 100.0f + static_cast<float>(e);
  PositionMap map;
  // Drop block 1 (row 0, col 1), grow (1, 0).
  TopologyEdit::Apply(w, {1}, {GrowCoord{1, 0}}, &map, 0.5f);
  map.Remap(w.grad, 0.0f);
  EXPECT_EQ(map.width, 4);
  ASSERT_EQ(w.positions(), 3);
  EXPECT_EQ(w.pattern().Find(1, 0), 1);
  EXPECT_EQ(w.pattern().Find(0, 1), -1);
  const std::vector<float> expect_values = {1, 2, 3, 4, 0.5f, 0.5f, 0.5f, 0.5f, 9, 10, 11, 12};
  EXPECT_EQ(std::vector<float>(w.values().begin(), w.values().end()), expect_values);
  const std::vector<float> expect_grad = {100, 101, 102, 103, 0, 0, 0, 0, 108, 109, 110, 111};
  EXPECT_EQ(std::vector<float>(w.grad.begin(), w.grad.end()), expect_grad);
  // Prune the first block: the rest move forward bit for bit.
  TopologyEdit::Prune(w, {0}, &map);
  map.Compact(w.grad);
  ASSERT_EQ(w.positions(), 2);
  EXPECT_EQ(w.stored(), 8);
  EXPECT_EQ(w.entries(), 8);
  EXPECT_EQ(std::vector<float>(w.values().begin(), w.values().end()),
            (std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f, 9, 10, 11, 12}));
  EXPECT_EQ(std::vector<float>(w.grad.begin(), w.grad.end()), (std::vector<float>{0, 0, 0, 0, 108, 109, 110, 111}));
  EXPECT_THROW(TopologyEdit::Prune(w, {2}, &map), Error);  // out of range: nothing changes
  EXPECT_EQ(w.positions(), 2);
  // A CSR replacement for a blocked parameter is refused.
  EXPECT_THROW(TopologyEdit::Replace(w, CsrMatrix(4, 4)), Error);
}

}  // namespace
}  // namespace engine
