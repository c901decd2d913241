// Dense Linear op: forward vs double-precision W·x + b, gradients vs central differences.
#include "engine/ops/linear.h"

#include <gtest/gtest.h>

#include "engine/autograd/gradcheck.h"
#include "engine/base/check.h"
#include "tests/testutil/testutil.h"

namespace engine {
namespace {

TEST(LinearOpTest, ForwardMatchesDoubleReference) {
  Rng rng(3);
  DenseParameter w("fc.weight", testutil::RandomDense({5, 7}, rng));
  DenseParameter b("fc.bias", testutil::RandomDense({5}, rng));
  Variable x = Constant(testutil::RandomDense({7, 4}, rng));
  Variable y = Linear(x, w, &b);
  testutil::DenseF64 expected = testutil::MatmulF64(testutil::ToF64(w.var.value()), testutil::ToF64(x.value()));
  for (int64_t i = 0; i < 5; ++i)
    for (int64_t j = 0; j < 4; ++j) expected.data[i * 4 + j] += b.var.value()[i];
  EXPECT_TRUE(testutil::AllClose(y.value(), expected, 1e-5));
}

TEST(LinearOpTest, GradientsMatchFiniteDifferences) {
  Rng rng(4);
  DenseParameter w("fc.weight", testutil::RandomDense({3, 4}, rng));
  DenseParameter b("fc.bias", testutil::RandomDense({3}, rng));
  Variable x = Leaf(testutil::RandomDense({4, 5}, rng), "x");
  const GradCheckReport r =
      GradCheck([&] { return Linear(x, w, &b); }, {LeafInput(x), LeafInput(w.var), LeafInput(b.var)});
  EXPECT_TRUE(r.ok) << r.first_failure;
  EXPECT_EQ(r.checked, 20 + 12 + 3);
}

TEST(LinearOpTest, NoBiasAndConstantInput) {
  Rng rng(5);
  DenseParameter w("fc.weight", testutil::RandomDense({2, 3}, rng));
  Variable x = Constant(testutil::RandomDense({3, 2}, rng));
  const GradCheckReport r = GradCheck([&] { return Linear(x, w, nullptr); }, {LeafInput(w.var)});
  EXPECT_TRUE(r.ok) << r.first_failure;
}

TEST(LinearOpTest, WrongInputShapeNamesTheParameter) {
  DenseParameter w("layer.fc2.weight", Tensor({2, 3}));
  Variable x = Constant(Tensor({4, 2}));
  try {
    Linear(x, w, nullptr);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("layer.fc2.weight"), std::string::npos) << what;
    EXPECT_NE(what.find("[4, 2]"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace engine
