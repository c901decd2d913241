// SparseLinear with a blocked (BSR) weight: forward vs the densified weight in double; input, weight and bias
// gradients vs central differences over every stored float (padding included: its analytic gradient must be 0 and
// the output must not depend on it); dense_grad_rows vs dY·Xᵀ in double; 1 vs 2 threads bit-identical; and the
// parameter-level edits (drop/grow and prune of whole blocks) carrying gradients across.
#include <gtest/gtest.h>

#include <vector>

#include "engine/autograd/gradcheck.h"
#include "engine/autograd/parameter.h"
#include "engine/base/check.h"
#include "engine/base/parallel.h"
#include "engine/ops/sparse_linear.h"
#include "engine/sparse/topology_edit.h"
#include "tests/testutil/testutil.h"

namespace engine {
namespace {

using testutil::RandomBsr;

struct Case {
  int64_t out, in, batch, br, bc;
  double density;
  const char* why;
};
const Case kCases[] = {
    {8, 6, 3, 4, 1, 0.5, "4x1, shape a multiple of the block"},
    {10, 7, 5, 4, 1, 0.6, "4x1, the last block row padded (10 = 2 x 4 + 2)"},
    {13, 5, 2, 8, 1, 0.7, "8x1, padded last block row"},
    {9, 10, 4, 4, 4, 0.4, "4x4, padding on both axes"},
    {6, 9, 3, 2, 2, 0.5, "2x2, padded last block column"},
    {5, 11, 3, 1, 4, 0.5, "1x4, padded last block column"},
    {8, 8, 17, 8, 1, 1.0, "every block stored; a batch not a multiple of the vector width"},
    {8, 4, 2, 4, 1, 0.0, "no blocks: output is the bias"},
};

class BlockSparseLinearTest : public ::testing::TestWithParam<Case> {};

TEST_P(BlockSparseLinearTest, ForwardMatchesDenseDouble) {
  const Case& c = GetParam();
  Rng rng(21);
  SparseParameter w("fc.weight", RandomBsr(c.out, c.in, c.br, c.bc, c.density, rng));
  ASSERT_TRUE(w.blocked());
  DenseParameter b("fc.bias", testutil::RandomDense({c.out}, rng));
  Variable x = Constant(testutil::RandomDense({c.in, c.batch}, rng));
  Variable y = SparseLinear(x, w, &b);
  testutil::DenseF64 expected = testutil::MatmulF64(testutil::ToF64(w.blocks().ToDense()), testutil::ToF64(x.value()));
  for (int64_t i = 0; i < c.out; ++i)
    for (int64_t j = 0; j < c.batch; ++j) expected.data[i * c.batch + j] += b.var.value()[i];
  EXPECT_TRUE(testutil::AllClose(y.value(), expected, 1e-5)) << c.why;
}

TEST_P(BlockSparseLinearTest, GradientsMatchFiniteDifferences) {
  const Case& c = GetParam();
  Rng rng(22);
  SparseParameter w("fc.weight", RandomBsr(c.out, c.in, c.br, c.bc, c.density, rng));
  DenseParameter b("fc.bias", testutil::RandomDense({c.out}, rng));
  Variable x = Leaf(testutil::RandomDense({c.in, c.batch}, rng), "x");
  // Every stored float, padding included: there the difference quotient is 0 (the kernels never read padding) and
  // so must the analytic gradient be.
  GradCheckInput w_input{"fc.weight.values", w.mutable_values().data(), w.stored(),
                         [&w]() -> const float* { return w.grad.data(); }};
  const GradCheckReport r =
      GradCheck([&] { return SparseLinear(x, w, &b); }, {LeafInput(x), w_input, LeafInput(b.var)});
  EXPECT_TRUE(r.ok) << c.why << ": " << r.first_failure;
  EXPECT_EQ(r.checked, c.in * c.batch + w.stored() + c.out);
}

TEST_P(BlockSparseLinearTest, DenseGradRowsAndBlockGradientEqualDyXtInDouble) {
  const Case& c = GetParam();
  Rng rng(23);
  SparseParameter w("fc.weight", RandomBsr(c.out, c.in, c.br, c.bc, c.density, rng));
  w.want_dense_grad = true;
  Variable x = Constant(testutil::RandomDense({c.in, c.batch}, rng));
  Variable y = SparseLinear(x, w, nullptr);
  const Tensor d_y = testutil::RandomDense({c.out, c.batch}, rng);
  Backward(y, d_y);
  ASSERT_TRUE(static_cast<bool>(w.dense_grad_rows));
  const testutil::DenseF64 expected = testutil::MatmulF64(testutil::ToF64(d_y), testutil::ToF64(x.value()), false, true);
  Tensor dense({c.out, c.in});
  for (int64_t r0 = 0; r0 < c.out; r0 += 3) {  // tiles of 3 rows: not aligned with the blocks
    const int64_t r1 = std::min(c.out, r0 + 3);
    w.dense_grad_rows(r0, r1, DenseView{dense.data() + r0 * c.in, r1 - r0, c.in, c.in});
  }
  EXPECT_TRUE(testutil::AllClose(dense, expected, 1e-5)) << c.why;
  // The block gradient holds the same numbers at in-bounds entries and exactly 0 in the padding.
  const BsrView v = w.blocks().view();
  for (int64_t ib = 0; ib < v.row_blocks; ++ib) {
    for (int64_t p = v.block_row_offsets[ib]; p < v.block_row_offsets[ib + 1]; ++p) {
      for (int64_t r = 0; r < c.br; ++r) {
        for (int64_t q = 0; q < c.bc; ++q) {
          const int64_t i = ib * c.br + r, j = v.block_col_indices[p] * c.bc + q;
          const float g = w.grad[p * c.br * c.bc + r * c.bc + q];
          if (i < c.out && j < c.in) {
            EXPECT_NEAR(g, expected.at(i, j), 1e-5) << c.why << " block " << p;
          } else {
            EXPECT_EQ(g, 0.0f) << c.why << ": padding of block " << p << " got a gradient";
          }
        }
      }
    }
  }
}

TEST_P(BlockSparseLinearTest, OneAndTwoThreadsAreBitIdentical) {
  const Case& c = GetParam();
  std::vector<float> out[2], d_x[2], d_w[2];
  for (int t = 0; t < 2; ++t) {
    SetNumThreads(t + 1);
    Rng rng(24);
    SparseParameter w("fc.weight", RandomBsr(c.out, c.in, c.br, c.bc, c.density, rng));
    Variable x = Leaf(testutil::RandomDense({c.in, c.batch}, rng), "x");
    Variable y = SparseLinear(x, w, nullptr);
    Backward(y, testutil::RandomDense({c.out, c.batch}, rng));
    out[t].assign(y.value().data(), y.value().data() + y.value().size());
    d_x[t].assign(x.grad().data(), x.grad().data() + x.grad().size());
    d_w[t].assign(w.grad.begin(), w.grad.end());
  }
  SetNumThreads(2);
  EXPECT_EQ(out[0], out[1]) << c.why;
  EXPECT_EQ(d_x[0], d_x[1]) << c.why;
  EXPECT_EQ(d_w[0], d_w[1]) << c.why;
}

INSTANTIATE_TEST_SUITE_P(Shapes, BlockSparseLinearTest, ::testing::ValuesIn(kCases));

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
