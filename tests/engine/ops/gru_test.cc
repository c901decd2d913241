// GruRecurrence: the engine's sigmoid and tanh against libm in double; the forward against a double-precision GRU
// written out here from PyTorch's equations; every gradient (input projections, recurrent weight dense and CSR, bias)
// against central differences over a short unrolled sequence; dense_grad_rows against the dense weight's own
// gradient; 1 vs 2 threads bit-identical.
#include "engine/ops/gru.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "engine/autograd/gradcheck.h"
#include "engine/base/check.h"
#include "engine/base/parallel.h"
#include "tests/testutil/testutil.h"

namespace engine {
namespace {

TEST(GruActivationsTest, MatchLibmInDouble) {
  double worst_sigmoid = 0, worst_tanh = 0;
  for (int i = -400000; i <= 400000; ++i) {
    const float x = static_cast<float>(i) * 5e-5f;  // [-20, 20]
    worst_sigmoid = std::max(worst_sigmoid, std::fabs(GruSigmoid(x) - 1.0 / (1.0 + std::exp(-double{x}))));
    worst_tanh = std::max(worst_tanh, std::fabs(GruTanh(x) - std::tanh(double{x})));
  }
  EXPECT_LT(worst_sigmoid, 2e-7);
  EXPECT_LT(worst_tanh, 3e-7);
  for (float big : {50.0f, 100.0f, 1e30f}) {
    EXPECT_EQ(GruSigmoid(big), 1.0f);
    EXPECT_EQ(GruTanh(big), 1.0f);
    EXPECT_EQ(GruTanh(-big), -1.0f);
    EXPECT_LT(GruSigmoid(-big), 1e-21f);
  }
}

struct Case {
  int64_t hidden, batch, steps;
  double density;  // < 0: a dense recurrent weight
  const char* why;
};
const Case kCases[] = {
    {4, 3, 5, -1, "dense weight"},
    {5, 2, 4, 0.5, "CSR weight, half dense"},
    {3, 1, 6, 0.2, "CSR weight, very sparse (empty rows), batch 1"},
    {4, 2, 1, 0.6, "one step: the recurrent weight gets no gradient"},
};

// The weight as a dense matrix (zeros off the pattern) for the oracle.
testutil::DenseF64 WeightF64(const GruRecurrentWeight& w) {
  return testutil::ToF64(w.sparse != nullptr ? w.sparse->weight().ToDense() : w.dense->var.value());
}

// h [H, T*B] in double, straight from the equations.
testutil::DenseF64 GruF64(const Tensor& gi, const testutil::DenseF64& w, const Tensor& bias, int64_t T) {
  const int64_t H = w.cols, B = gi.dim(1) / T;
  testutil::DenseF64 out{H, T * B, std::vector<double>(static_cast<size_t>(H * T * B))};
  std::vector<double> h(static_cast<size_t>(H * B), 0.0);
  auto sig = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  for (int64_t t = 0; t < T; ++t) {
    std::vector<double> next(h.size());
    for (int64_t i = 0; i < H; ++i) {
      for (int64_t b = 0; b < B; ++b) {
        double gh[3];
        for (int g = 0; g < 3; ++g) {
          gh[g] = bias[g * H + i];
          for (int64_t j = 0; j < H; ++j) gh[g] += w.at(g * H + i, j) * h[j * B + b];
        }
        const int64_t col = t * B + b;
        const double r = sig(gi.data()[i * T * B + col] + gh[0]);
        const double z = sig(gi.data()[(H + i) * T * B + col] + gh[1]);
        const double n = std::tanh(gi.data()[(2 * H + i) * T * B + col] + r * gh[2]);
        next[i * B + b] = (1 - z) * n + z * h[i * B + b];
        out.data[i * T * B + col] = next[i * B + b];
      }
    }
    h = next;
  }
  return out;
}

struct Model {
  std::unique_ptr<DenseParameter> dense;
  std::unique_ptr<SparseParameter> sparse;
  DenseParameter bias;
  GruRecurrentWeight weight() { return {dense.get(), sparse.get()}; }
};

Model MakeModel(const Case& c, Rng& rng) {
  Model m;
  if (c.density < 0) {
    m.dense = std::make_unique<DenseParameter>("gru.weight_hh_l0", testutil::RandomDense({3 * c.hidden, c.hidden}, rng));
  } else {
    m.sparse = std::make_unique<SparseParameter>("gru.weight_hh_l0",
                                                 testutil::RandomCsr(3 * c.hidden, c.hidden, c.density, rng));
  }
  m.bias = DenseParameter("gru.bias_hh_l0", testutil::RandomDense({3 * c.hidden}, rng));
  return m;
}

class GruTest : public ::testing::TestWithParam<Case> {};

TEST_P(GruTest, ForwardMatchesDoubleEquations) {
  const Case& c = GetParam();
  Rng rng(31);
  Model m = MakeModel(c, rng);
  Variable gi = Constant(testutil::RandomDense({3 * c.hidden, c.steps * c.batch}, rng));
  Variable h = GruRecurrence(gi, c.steps, m.weight(), &m.bias);
  EXPECT_TRUE(testutil::AllClose(h.value(), GruF64(gi.value(), WeightF64(m.weight()), m.bias.var.value(), c.steps),
                                 2e-6))
      << c.why;
}

TEST_P(GruTest, GradientsMatchFiniteDifferences) {
  const Case& c = GetParam();
  Rng rng(32);
  Model m = MakeModel(c, rng);
  Variable gi = Leaf(testutil::RandomDense({3 * c.hidden, c.steps * c.batch}, rng), "gi");
  std::vector<GradCheckInput> inputs = {LeafInput(gi), LeafInput(m.bias.var)};
  if (m.sparse) {
    SparseParameter* w = m.sparse.get();
    inputs.push_back({"weight values", w->mutable_values().data(), w->stored(),
                      [w]() -> const float* { return w->grad.data(); }});
  } else {
    inputs.push_back(LeafInput(m.dense->var));
  }
  GradCheckOptions o;
  o.eps = 1e-2;
  const GradCheckReport r = GradCheck([&] { return GruRecurrence(gi, c.steps, m.weight(), &m.bias); }, inputs, o);
  EXPECT_TRUE(r.ok) << c.why << ": " << r.first_failure;
  const int64_t weights = m.sparse ? m.sparse->stored() : 3 * c.hidden * c.hidden;
  EXPECT_EQ(r.checked, 3 * c.hidden * c.steps * c.batch + 3 * c.hidden + weights);
}

// The sparse weight's dense gradient (every position, stored or not) equals the gradient a dense weight holding the
// same values (zeros off the pattern) receives, which the finite-difference test above checks; on the pattern, the
// sparse gradient holds the same numbers.
class GruSparseTest : public ::testing::TestWithParam<Case> {};

TEST_P(GruSparseTest, DenseGradRowsEqualTheDenseWeightsGradient) {
  const Case& c = GetParam();
  Rng rng(33);
  Model m = MakeModel(c, rng);
  m.sparse->want_dense_grad = true;
  const Tensor gi_value = testutil::RandomDense({3 * c.hidden, c.steps * c.batch}, rng);
  const Tensor d_h = testutil::RandomDense({c.hidden, c.steps * c.batch}, rng);
  Backward(GruRecurrence(Constant(gi_value), c.steps, m.weight(), &m.bias), d_h);
  ASSERT_TRUE(static_cast<bool>(m.sparse->dense_grad_rows));
  DenseParameter dense_w("dense", m.sparse->weight().ToDense());
  DenseParameter bias2("bias", m.bias.var.value());
  Backward(GruRecurrence(Constant(gi_value), c.steps, {&dense_w, nullptr}, &bias2), d_h);
  const int64_t rows = 3 * c.hidden;
  Tensor tiles({rows, c.hidden});
  for (int64_t r0 = 0; r0 < rows; r0 += 4) {  // ragged tiles of 4 rows
    const int64_t r1 = std::min(rows, r0 + 4);
    m.sparse->dense_grad_rows(r0, r1, DenseView{tiles.data() + r0 * c.hidden, r1 - r0, c.hidden, c.hidden});
  }
  EXPECT_TRUE(testutil::AllClose(tiles, testutil::ToF64(dense_w.var.grad()), 1e-6)) << c.why;
  const PatternView p = m.sparse->pattern();
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t e = p.offsets[i]; e < p.offsets[i + 1]; ++e) {
      EXPECT_NEAR(m.sparse->grad[e], dense_w.var.grad().data()[i * c.hidden + p.indices[e]], 1e-6) << c.why;
    }
  }
  EXPECT_TRUE(testutil::AllClose(m.bias.var.grad(), testutil::ToF64(bias2.var.grad()), 1e-6)) << c.why;
}

INSTANTIATE_TEST_SUITE_P(Shapes, GruTest, ::testing::ValuesIn(kCases));
// The cases with a CSR recurrent weight (the first is dense).
INSTANTIATE_TEST_SUITE_P(Shapes, GruSparseTest, ::testing::ValuesIn(kCases + 1, kCases + 4));

TEST(GruOpTest, OneAndTwoThreadsAreBitIdentical) {
  const Case c{96, 8, 5, 0.25, "96 hidden units: both threads get rows"};
  std::vector<float> out[2], d_gi[2], d_w[2], d_b[2];
  for (int t = 0; t < 2; ++t) {
    SetNumThreads(t + 1);
    Rng rng(34);
    Model m = MakeModel(c, rng);
    Variable gi = Leaf(testutil::RandomDense({3 * c.hidden, c.steps * c.batch}, rng), "gi");
    Variable h = GruRecurrence(gi, c.steps, m.weight(), &m.bias);
    Backward(h, testutil::RandomDense({c.hidden, c.steps * c.batch}, rng));
    out[t].assign(h.value().data(), h.value().data() + h.value().size());
    d_gi[t].assign(gi.grad().data(), gi.grad().data() + gi.grad().size());
    d_w[t].assign(m.sparse->grad.begin(), m.sparse->grad.end());
    d_b[t].assign(m.bias.var.grad().data(), m.bias.var.grad().data() + m.bias.var.grad().size());
  }
  SetNumThreads(2);
  EXPECT_EQ(out[0], out[1]);
  EXPECT_EQ(d_gi[0], d_gi[1]);
  EXPECT_EQ(d_w[0], d_w[1]);
  EXPECT_EQ(d_b[0], d_b[1]);
}

TEST(GruOpTest, SkipPatternGradLeavesTheSparseGradientAlone) {
  Rng rng(35);
  Model m = MakeModel({4, 2, 3, 0.5, ""}, rng);
  m.sparse->skip_pattern_grad = true;
  Variable gi = Leaf(testutil::RandomDense({12, 6}, rng), "gi");
  Backward(GruRecurrence(gi, 3, m.weight(), &m.bias), testutil::RandomDense({4, 6}, rng));
  for (float g : m.sparse->grad) EXPECT_EQ(g, 0.0f);
  EXPECT_FALSE(static_cast<bool>(m.sparse->dense_grad_rows));
}

TEST(GruOpTest, BadShapesAreRefusedWithTheirNames) {
  Rng rng(36);
  Model m = MakeModel({4, 2, 3, 0.5, ""}, rng);
  auto expect_error = [&](const Variable& gi, int64_t steps, const char* what) {
    try {
      GruRecurrence(gi, steps, m.weight(), &m.bias);
      ADD_FAILURE() << "no error for " << what;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("gru.weight_hh_l0"), std::string::npos) << e.what();
    }
  };
  expect_error(Constant(Tensor({11, 6})), 3, "3H rows wrong");
  expect_error(Constant(Tensor({12, 7})), 3, "columns not a multiple of the steps");
  expect_error(Constant(Tensor({12, 6})), 0, "zero steps");
  EXPECT_THROW(GruRecurrence(Constant(Tensor({12, 6})), 3, {nullptr, nullptr}, nullptr), Error);
}

}  // namespace
}  // namespace engine
