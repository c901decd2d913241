// RigL, SET and pruning at block granularity (UpdateLayer on a BSR parameter) against an independent reference:
// block norms computed in double from the dense weight and the dense gradient, ranked by a plain sort.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>
#include <vector>

#include "engine/autograd/parameter.h"
#include "engine/base/rng.h"
#include "rigl/drop_schedule.h"
#include "rigl/updater.h"

namespace {

using engine::BsrMatrix;
using engine::SparseParameter;

struct Layer {
  int64_t rows, cols, br, bc;
  std::vector<float> dense_grad;  // rows x cols
};

// A rows x cols weight in br x bc blocks, `blocks` of them, distinct random values; a random dense gradient.
SparseParameter MakeBlocked(Layer& l, int64_t blocks, uint64_t seed) {
  engine::Rng rng(seed);
  BsrMatrix m = BsrMatrix::RandomPattern(l.rows, l.cols, l.br, l.bc, blocks, rng);
  m.FillEntries([&rng] { return rng.UniformFloat(-1, 1); });
  SparseParameter w("fc.weight", std::move(m));
  l.dense_grad.resize(l.rows * l.cols);
  for (float& g : l.dense_grad) g = rng.UniformFloat(-1, 1);
  const std::vector<float>* grad = &l.dense_grad;
  const int64_t cols = l.cols;
  w.dense_grad_rows = [grad, cols](int64_t r0, int64_t r1, engine::DenseView out) {
    for (int64_t i = r0; i < r1; ++i) std::copy(grad->begin() + i * cols, grad->begin() + (i + 1) * cols, out.row(i - r0));
  };
  return w;
}

// Frobenius norm in double of block (ib, jb) of a dense rows x cols matrix.
double BlockNorm(const std::vector<float>& dense, const Layer& l, int64_t ib, int64_t jb) {
  double s = 0;
  for (int64_t i = ib * l.br; i < std::min(l.rows, (ib + 1) * l.br); ++i)
    for (int64_t j = jb * l.bc; j < std::min(l.cols, (jb + 1) * l.bc); ++j) s += double(dense[i * l.cols + j]) * dense[i * l.cols + j];
  return std::sqrt(s);
}

std::set<int64_t> Cells(const SparseParameter& w) {
  std::set<int64_t> cells;
  const engine::PatternView g = w.pattern();
  for (int64_t i = 0; i < g.rows; ++i)
    for (int64_t p = g.offsets[i]; p < g.offsets[i + 1]; ++p) cells.insert(i * g.cols + g.indices[p]);
  return cells;
}

struct Case {
  Layer layer;
  int64_t blocks;
  const char* why;
};

class BlockUpdate : public ::testing::TestWithParam<Case> {};

TEST_P(BlockUpdate, RiglDropsSmallestBlockNormsAndGrowsLargestGradientBlockNorms) {
  Case c = GetParam();
  Layer& l = c.layer;
  SparseParameter w = MakeBlocked(l, c.blocks, 31);
  const engine::Tensor dense_w = w.blocks().ToDense();
  const std::vector<float> dw(dense_w.data(), dense_w.data() + dense_w.size());
  const engine::PatternView g0 = w.pattern();
  const int64_t cells = g0.rows * g0.cols;
  const std::set<int64_t> before = Cells(w);
  const float f = 0.3f;
  const int64_t k = rigl::DropCount(w.positions(), f);
  ASSERT_GT(k, 0) << c.why;

  // Reference: drop the k stored blocks of smallest weight norm (ties: lower position, i.e. lower cell).
  std::vector<std::pair<double, int64_t>> stored;
  for (int64_t cell : before) stored.push_back({BlockNorm(dw, l, cell / g0.cols, cell % g0.cols), cell});
  std::sort(stored.begin(), stored.end());
  std::set<int64_t> kept;
  for (size_t q = k; q < stored.size(); ++q) kept.insert(stored[q].second);
  // Grow the k cells outside the kept set of largest gradient norm (ties: lower cell).
  std::vector<std::pair<double, int64_t>> candidates;
  for (int64_t cell = 0; cell < cells; ++cell) {
    if (!kept.count(cell)) candidates.push_back({-BlockNorm(l.dense_grad, l, cell / g0.cols, cell % g0.cols), cell});
  }
  std::sort(candidates.begin(), candidates.end());
  std::set<int64_t> expected = kept;
  for (int64_t q = 0; q < k; ++q) expected.insert(candidates[q].second);

  for (int64_t tile_rows : {int64_t{0}, l.br, 3 * l.br}) {  // default tile, one block row, three block rows
    Layer copy = l;
    SparseParameter v = MakeBlocked(copy, c.blocks, 31);
    rigl::UpdateOptions o;
    o.mode = rigl::GrowMode::kGradient;
    o.tile_rows = tile_rows;
    rigl::LayerHistory history;
    const rigl::LayerUpdateStats s = rigl::UpdateLayer(v, f, o, nullptr, &history);
    EXPECT_EQ(Cells(v), expected) << c.why << ", tile_rows " << tile_rows;
    EXPECT_EQ(v.positions(), w.positions()) << "block count conserved";
    EXPECT_EQ(s.dropped, s.grown);
    // Blocks stored before keep their values bit for bit (a dropped block regrown at once survives); new blocks
    // start at 0.
    const engine::Tensor after = v.blocks().ToDense();
    for (int64_t cell : expected) {
      const int64_t ib = cell / g0.cols, jb = cell % g0.cols;
      for (int64_t i = ib * l.br; i < std::min(l.rows, (ib + 1) * l.br); ++i)
        for (int64_t j = jb * l.bc; j < std::min(l.cols, (jb + 1) * l.bc); ++j)
          EXPECT_EQ(after[i * l.cols + j], before.count(cell) ? dw[i * l.cols + j] : 0.0f) << c.why;
    }
    EXPECT_EQ(history.ever_active.size(), std::set<int64_t>(before.begin(), before.end()).size() + s.grown);
  }
}

TEST_P(BlockUpdate, SetGrowsDistinctBlocksOutsideTheKeptOnes) {
  Case c = GetParam();
  SparseParameter w = MakeBlocked(c.layer, c.blocks, 32);
  const std::set<int64_t> before = Cells(w);
  rigl::UpdateOptions o;
  o.mode = rigl::GrowMode::kRandom;
  o.seed = 5;
  o.salt = 9;
  const rigl::LayerUpdateStats s = rigl::UpdateLayer(w, 0.5f, o, nullptr, nullptr);
  const std::set<int64_t> after = Cells(w);
  EXPECT_EQ(static_cast<int64_t>(after.size()), w.positions());
  EXPECT_EQ(static_cast<int64_t>(before.size()), w.positions());
  int64_t fresh = 0;
  for (int64_t cell : after) fresh += before.count(cell) ? 0 : 1;
  EXPECT_EQ(fresh, s.grown) << c.why;
}

const Case kCases[] = {
    {{16, 12, 4, 1, {}}, 14, "4x1, shape a multiple of the block"},
    {{18, 10, 8, 1, {}}, 7, "8x1, last block row padded (18 = 2 x 8 + 2)"},
    {{10, 11, 4, 4, {}}, 4, "4x4, padding on both axes"},
    {{9, 9, 1, 4, {}}, 8, "1x4, last block column padded"},
};
INSTANTIATE_TEST_SUITE_P(Shapes, BlockUpdate, ::testing::ValuesIn(kCases));

// BlockNormTiles on a hand-made 3 x 3 score matrix in 2x2 blocks (grid 2 x 2): the norms of the clipped blocks.
TEST(BlockNormTiles, NormsOfClippedBlocksByHand) {
  const float s[9] = {1, -2, 3, 2, 4, 0, -1, 0, 2};
  rigl::RowTileFn entries = [&s](int64_t r0, int64_t r1, engine::DenseView out) {
    for (int64_t i = r0; i < r1; ++i) std::copy(s + 3 * i, s + 3 * i + 3, out.row(i - r0));
  };
  const rigl::RowTileFn blocks = rigl::BlockNormTiles(entries, 3, 3, 2, 2);
  float out[4];
  blocks(0, 2, engine::DenseView{out, 2, 2, 2});
  EXPECT_FLOAT_EQ(out[0], std::sqrt(1.0f + 4 + 4 + 16));  // rows 0-1, cols 0-1
  EXPECT_FLOAT_EQ(out[1], std::sqrt(9.0f + 0));           // rows 0-1, col 2
  EXPECT_FLOAT_EQ(out[2], std::sqrt(1.0f + 0));           // row 2, cols 0-1
  EXPECT_FLOAT_EQ(out[3], 2.0f);                          // row 2, col 2
}

}  // namespace
