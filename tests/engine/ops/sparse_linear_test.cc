// SparseLinear op: forward vs the densified weight in double, input/weight/bias gradients vs central differences
// (the weight only on its pattern), and dense_grad_rows vs dY·Xᵀ in double.
#include "engine/ops/sparse_linear.h"

#include <gtest/gtest.h>

#include "engine/autograd/gradcheck.h"
#include "engine/base/check.h"
#include "engine/sparse/topology_edit.h"
#include "tests/testutil/testutil.h"

namespace engine {
namespace {

struct Case {
  int64_t out, in, batch;
  double density;
  const char* why;
};
const Case kCases[] = {
    {4, 6, 3, 0.5, "half dense"},
    {5, 7, 2, 0.15, "very sparse: empty rows and columns likely"},
    {3, 4, 1, 1.0, "fully stored pattern, batch 1"},
    {6, 5, 4, 0.0, "no nonzeros: output is the bias"},
};

class SparseLinearTest : public ::testing::TestWithParam<Case> {};

TEST_P(SparseLinearTest, ForwardMatchesDenseDouble) {
  const Case& c = GetParam();
  Rng rng(11);
  SparseParameter w("fc.weight", testutil::RandomCsr(c.out, c.in, c.density, rng));
  DenseParameter b("fc.bias", testutil::RandomDense({c.out}, rng));
  Variable x = Constant(testutil::RandomDense({c.in, c.batch}, rng));
  Variable y = SparseLinear(x, w, &b);
  testutil::DenseF64 expected = testutil::MatmulF64(testutil::ToF64(w.weight().ToDense()), testutil::ToF64(x.value()));
  for (int64_t i = 0; i < c.out; ++i)
    for (int64_t j = 0; j < c.batch; ++j) expected.data[i * c.batch + j] += b.var.value()[i];
  EXPECT_TRUE(testutil::AllClose(y.value(), expected, 1e-5)) << c.why;
}

TEST_P(SparseLinearTest, GradientsMatchFiniteDifferences) {
  const Case& c = GetParam();
  Rng rng(12);
  SparseParameter w("fc.weight", testutil::RandomCsr(c.out, c.in, c.density, rng));
  DenseParameter b("fc.bias", testutil::RandomDense({c.out}, rng));
  Variable x = Leaf(testutil::RandomDense({c.in, c.batch}, rng), "x");
  GradCheckInput w_input{"fc.weight.values", w.mutable_values().data(), w.weight().nnz(),
                         [&w]() -> const float* { return w.grad.data(); }};
  const GradCheckReport r =
      GradCheck([&] { return SparseLinear(x, w, &b); }, {LeafInput(x), w_input, LeafInput(b.var)});
  EXPECT_TRUE(r.ok) << c.why << ": " << r.first_failure;
  EXPECT_EQ(r.checked, c.in * c.batch + w.weight().nnz() + c.out);
}

TEST_P(SparseLinearTest, DenseGradRowsEqualsDyXtInDouble) {
  const Case& c = GetParam();
  Rng rng(13);
  SparseParameter w("fc.weight", testutil::RandomCsr(c.out, c.in, c.density, rng));
  w.want_dense_grad = true;
  Variable x = Constant(testutil::RandomDense({c.in, c.batch}, rng));
  Variable y = SparseLinear(x, w, nullptr);
  const Tensor d_y = testutil::RandomDense({c.out, c.batch}, rng);
  Backward(y, d_y);
  ASSERT_TRUE(static_cast<bool>(w.dense_grad_rows));
  const testutil::DenseF64 expected = testutil::MatmulF64(testutil::ToF64(d_y), testutil::ToF64(x.value()), false, true);
  // Row tiles of 2 (the last one ragged) reassemble the whole dense gradient.
  Tensor dense({c.out, c.in});
  for (int64_t r0 = 0; r0 < c.out; r0 += 2) {
    const int64_t r1 = std::min(c.out, r0 + 2);
    w.dense_grad_rows(r0, r1, DenseView{dense.data() + r0 * c.in, r1 - r0, c.in, c.in});
  }
  EXPECT_TRUE(testutil::AllClose(dense, expected, 1e-5)) << c.why;
  // And on the pattern, the sparse gradient is the same numbers.
  for (int64_t i = 0; i < c.out; ++i) {
    for (int64_t p = w.weight().row_offsets()[i]; p < w.weight().row_offsets()[i + 1]; ++p) {
      EXPECT_NEAR(w.grad[p], expected.at(i, w.weight().col_indices()[p]), 1e-5) << "position " << p;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, SparseLinearTest, ::testing::ValuesIn(kCases));

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
