// SparseLinear op, CSR and blocked (BSR) weights: forward vs the densified weight in double, input/weight/bias
// gradients vs central differences (the weight only on its stored floats), dense_grad_rows vs dY·Xᵀ in double, and
// 1 vs 2 threads bit-identical.
#include "engine/ops/sparse_linear.h"

#include <gtest/gtest.h>

#include <cmath>
#include <tuple>
#include <vector>

#include "engine/autograd/gradcheck.h"
#include "engine/base/check.h"
#include "engine/base/parallel.h"
#include "engine/ops/layer_kernels.h"
#include "engine/sparse/topology_edit.h"
#include "tests/testutil/testutil.h"

namespace engine {
namespace {

struct Case {
  int64_t out, in, batch, br, bc;  // br x bc = 1 x 1: a CSR weight; otherwise BSR blocks
  double density;                  // of the entries (CSR) or of the block grid (BSR)
  const char* why;
};
const Case kCases[] = {
    {4, 6, 3, 1, 1, 0.5, "CSR, half dense"},
    {5, 7, 2, 1, 1, 0.15, "CSR, very sparse: empty rows and columns likely"},
    {3, 4, 1, 1, 1, 1.0, "CSR, fully stored pattern, batch 1"},
    {6, 5, 4, 1, 1, 0.0, "CSR, no nonzeros: output is the bias"},
    {8, 6, 3, 4, 1, 0.5, "4x1, shape a multiple of the block"},
    {10, 7, 5, 4, 1, 0.6, "4x1, the last block row padded (10 = 2 x 4 + 2)"},
    {13, 5, 2, 8, 1, 0.7, "8x1, padded last block row"},
    {9, 10, 4, 4, 4, 0.4, "4x4, padding on both axes"},
    {6, 9, 3, 2, 2, 0.5, "2x2, padded last block column"},
    {5, 11, 3, 1, 4, 0.5, "1x4, padded last block column"},
    {8, 8, 17, 8, 1, 1.0, "8x1, every block stored; a batch not a multiple of the vector width"},
    {8, 4, 2, 4, 1, 0.0, "4x1, no blocks: output is the bias"},
    // Enough rows (block rows) that both threads get work in every kernel's schedule (chunks of 4 block rows).
    {300, 40, 17, 1, 1, 0.2, "CSR, 300 rows"},
    {300, 40, 17, 4, 1, 0.3, "4x1, 75 block rows"},
    {264, 24, 9, 8, 1, 0.4, "8x1, 33 block rows"},
};

SparseParameter MakeWeight(const Case& c, Rng& rng) {
  if (c.br * c.bc == 1) return SparseParameter("fc.weight", testutil::RandomCsr(c.out, c.in, c.density, rng));
  return SparseParameter("fc.weight", testutil::RandomBsr(c.out, c.in, c.br, c.bc, c.density, rng));
}

// Each case on the sparse kernels and on the dense path (a dense copy of the weight; engine/ops/layer_kernels.h).
// BSR weights ignore the choice.
class SparseLinearTest : public ::testing::TestWithParam<std::tuple<Case, LayerKernels>> {
 protected:
  void SetUp() override { SetLayerKernels(std::get<1>(GetParam())); }
  void TearDown() override { SetLayerKernels(LayerKernels::kAuto); }
  const Case& Param() const { return std::get<0>(GetParam()); }
};

TEST_P(SparseLinearTest, ForwardMatchesDenseDouble) {
  const Case& c = Param();
  Rng rng(11);
  SparseParameter w = MakeWeight(c, rng);
  DenseParameter b("fc.bias", testutil::RandomDense({c.out}, rng));
  Variable x = Constant(testutil::RandomDense({c.in, c.batch}, rng));
  Variable y = SparseLinear(x, w, &b);
  testutil::DenseF64 expected = testutil::MatmulF64(testutil::ToF64(w.ToCsr().ToDense()), testutil::ToF64(x.value()));
  for (int64_t i = 0; i < c.out; ++i)
    for (int64_t j = 0; j < c.batch; ++j) expected.data[i * c.batch + j] += b.var.value()[i];
  EXPECT_TRUE(testutil::AllClose(y.value(), expected, 1e-5)) << c.why;
}

// Every stored float is checked, a block's padding included: there the difference quotient is 0 (the kernels never
// read padding) and so must the analytic gradient be.
TEST_P(SparseLinearTest, GradientsMatchFiniteDifferences) {
  const Case& c = Param();
  Rng rng(12);
  SparseParameter w = MakeWeight(c, rng);
  DenseParameter b("fc.bias", testutil::RandomDense({c.out}, rng));
  Variable x = Leaf(testutil::RandomDense({c.in, c.batch}, rng), "x");
  GradCheckInput w_input{"fc.weight.values", w.mutable_values().data(), w.stored(),
                         [&w]() -> const float* { return w.grad.data(); }};
  const GradCheckReport r =
      GradCheck([&] { return SparseLinear(x, w, &b); }, {LeafInput(x), w_input, LeafInput(b.var)});
  EXPECT_TRUE(r.ok) << c.why << ": " << r.first_failure;
  EXPECT_EQ(r.checked, c.in * c.batch + w.stored() + c.out);
}

TEST_P(SparseLinearTest, DenseGradRowsAndPatternGradientEqualDyXtInDouble) {
  const Case& c = Param();
  Rng rng(13);
  SparseParameter w = MakeWeight(c, rng);
  w.want_dense_grad = true;
  Variable x = Constant(testutil::RandomDense({c.in, c.batch}, rng));
  Variable y = SparseLinear(x, w, nullptr);
  const Tensor d_y = testutil::RandomDense({c.out, c.batch}, rng);
  Backward(y, d_y);
  ASSERT_TRUE(static_cast<bool>(w.dense_grad_rows));
  const testutil::DenseF64 expected = testutil::MatmulF64(testutil::ToF64(d_y), testutil::ToF64(x.value()), false, true);
  // Row tiles of 3 (the last one ragged, not aligned with the blocks) reassemble the whole dense gradient.
  Tensor dense({c.out, c.in});
  for (int64_t r0 = 0; r0 < c.out; r0 += 3) {
    const int64_t r1 = std::min(c.out, r0 + 3);
    w.dense_grad_rows(r0, r1, DenseView{dense.data() + r0 * c.in, r1 - r0, c.in, c.in});
  }
  EXPECT_TRUE(testutil::AllClose(dense, expected, 1e-5)) << c.why;
  // On the pattern, the sparse gradient holds the same numbers at in-bounds entries and exactly 0 in a block's
  // padding.
  const PatternView g = w.pattern();
  for (int64_t ib = 0; ib < g.rows; ++ib) {
    for (int64_t p = g.offsets[ib]; p < g.offsets[ib + 1]; ++p) {
      for (int64_t r = 0; r < c.br; ++r) {
        for (int64_t q = 0; q < c.bc; ++q) {
          const int64_t i = ib * c.br + r, j = g.indices[p] * c.bc + q;
          const float grad = w.grad[p * c.br * c.bc + r * c.bc + q];
          if (i < c.out && j < c.in) {
            EXPECT_NEAR(grad, expected.at(i, j), 1e-5) << c.why << " position " << p;
          } else {
            EXPECT_EQ(grad, 0.0f) << c.why << ": padding of block " << p << " got a gradient";
          }
        }
      }
    }
  }
}

TEST_P(SparseLinearTest, OneAndTwoThreadsAreBitIdentical) {
  const Case& c = Param();
  std::vector<float> out[2], d_x[2], d_w[2];
  for (int t = 0; t < 2; ++t) {
    SetNumThreads(t + 1);
    Rng rng(24);
    SparseParameter w = MakeWeight(c, rng);
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

INSTANTIATE_TEST_SUITE_P(Shapes, SparseLinearTest,
                         ::testing::Combine(::testing::ValuesIn(kCases),
                                            ::testing::Values(LayerKernels::kSparse, LayerKernels::kDense)));

// The op records which kernels it ran: CSR weights follow the setting, BSR ones never run dense.
TEST(SparseLinearOpTest, RanDenseFollowsTheLayerKernelsSetting) {
  for (LayerKernels choice : {LayerKernels::kSparse, LayerKernels::kDense}) {
    SetLayerKernels(choice);
    Rng rng(31);
    SparseParameter csr("fc.weight", testutil::RandomCsr(6, 8, 0.5, rng));
    SparseParameter bsr("fc.weight", testutil::RandomBsr(8, 8, 4, 1, 0.5, rng));
    const Variable x = Leaf(testutil::RandomDense({8, 3}, rng), "x");
    SparseLinear(x, csr, nullptr);
    SparseLinear(x, bsr, nullptr);
    EXPECT_EQ(csr.ran_dense, choice == LayerKernels::kDense) << LayerKernelsName(choice);
    EXPECT_FALSE(bsr.ran_dense) << LayerKernelsName(choice);
  }
  SetLayerKernels(LayerKernels::kAuto);
  for (LayerKernels choice : {LayerKernels::kAuto, LayerKernels::kSparse, LayerKernels::kDense}) {
    EXPECT_EQ(LayerKernelsNamed(LayerKernelsName(choice)), choice) << LayerKernelsName(choice);
  }
}

// The cost model by hand: dense from the break-even density on (40 of 100 entries at 0.4).
TEST(SparseLinearOpTest, AutoRunsDenseFromTheBreakEvenDensity) {
  SetLayerKernels(LayerKernels::kAuto);
  const double d = LinearBreakEvenDensity();
  ASSERT_GT(d, 0.0);
  ASSERT_LT(d, 1.0);
  const int64_t at = static_cast<int64_t>(std::ceil(d * 1000.0));
  EXPECT_TRUE(LinearRunsDense(10, 100, at));
  EXPECT_FALSE(LinearRunsDense(10, 100, at - 1));
  EXPECT_FALSE(LinearRunsDense(10, 100, 0));
  EXPECT_TRUE(LinearRunsDense(10, 100, 1000));
}

TEST(SparseLinearOpTest, NoDenseGradUnlessRequested) {
  Rng rng(14);
  SparseParameter w("fc.weight", testutil::RandomCsr(3, 3, 0.5, rng));
  Variable x = Constant(testutil::RandomDense({3, 2}, rng));
  Backward(SparseLinear(x, w, nullptr), testutil::RandomDense({3, 2}, rng));
  EXPECT_FALSE(static_cast<bool>(w.dense_grad_rows));
}

TEST(SparseLinearOpTest, BadTileRequestThrows) {
  Rng rng(15);
  SparseParameter w("fc.weight", testutil::RandomCsr(4, 3, 0.5, rng));
  w.want_dense_grad = true;
  Variable x = Constant(testutil::RandomDense({3, 2}, rng));
  Backward(SparseLinear(x, w, nullptr), testutil::RandomDense({4, 2}, rng));
  Tensor out({2, 3});
  EXPECT_THROW(w.dense_grad_rows(3, 5, out.view()), Error);  // past the last row
  Tensor wrong({1, 3});
  EXPECT_THROW(w.dense_grad_rows(0, 2, wrong.view()), Error);  // out has the wrong row count
}

TEST(SparseLinearOpTest, TopologyEditBetweenForwardAndBackwardThrows) {
  Rng rng(16);
  SparseParameter w("fc.weight", testutil::RandomCsr(3, 3, 0.5, rng));
  Variable x = Leaf(testutil::RandomDense({3, 2}, rng), "x");
  Variable y = SparseLinear(x, w, nullptr);
  GrowCoord grow{0, 0};
  for (int64_t i = 0; i < 3; ++i)
    for (int32_t j = 0; j < 3; ++j)
      if (w.weight().Find(i, j) < 0) grow = {i, j};
  PositionMap map;
  TopologyEdit::Apply(w, {0}, {grow}, &map);
  try {
    Backward(y, testutil::RandomDense({3, 2}, rng));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("topology"), std::string::npos) << e.what();
  }
}

TEST(SparseLinearOpTest, WrongInputShapeNamesTheParameter) {
  SparseParameter w("layer.fc1.weight", CsrMatrix(2, 3));
  Variable x = Constant(Tensor({5, 2}));
  try {
    SparseLinear(x, w, nullptr);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("layer.fc1.weight"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace engine
