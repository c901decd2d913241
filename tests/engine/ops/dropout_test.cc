// Dropout: identity in inference, inverted scaling, drop rate, determinism in (seed, step), independence of the
// thread count, and finite-difference gradients through a fixed mask.
#include "engine/ops/dropout.h"

#include <gtest/gtest.h>

#include "engine/autograd/gradcheck.h"
#include "engine/base/check.h"
#include "engine/base/parallel.h"
#include "tests/testutil/testutil.h"

namespace engine {
namespace {

Tensor Ones(int64_t n) {
  Tensor t({n});
  t.Fill(1.0f);
  return t;
}

TEST(DropoutTest, InferenceAndZeroPAreIdentity) {
  Variable x = Constant(Ones(10));
  EXPECT_EQ(Dropout(x, 0.5f, /*training=*/false, 1, 0).node(), x.node());
  EXPECT_EQ(Dropout(x, 0.0f, /*training=*/true, 1, 0).node(), x.node());
}

TEST(DropoutTest, KeptValuesScaledAndRateMatchesP) {
  const int64_t n = 20000;
  Variable y = Dropout(Constant(Ones(n)), 0.3f, true, 7, 0);
  int64_t kept = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float v = y.value()[i];
    ASSERT_TRUE(v == 0.0f || v == 1.0f / 0.7f) << "element " << i << " = " << v;
    kept += v != 0.0f;
  }
  // The mask is a fixed hash, so this is deterministic; the binomial sd is ~0.0032.
  EXPECT_NEAR(static_cast<double>(kept) / n, 0.7, 0.02);
}

TEST(DropoutTest, MaskDependsOnlyOnSeedAndStep) {
  const Tensor x = Ones(1000);
  const Tensor a = Dropout(Constant(x), 0.5f, true, 3, 5).value();
  const Tensor b = Dropout(Constant(x), 0.5f, true, 3, 5).value();
  const Tensor c = Dropout(Constant(x), 0.5f, true, 3, 6).value();
  EXPECT_TRUE(testutil::BitIdentical(a.data(), b.data(), a.size()));
  int64_t differ = 0;
  for (int64_t i = 0; i < a.size(); ++i) differ += a[i] != c[i];
  EXPECT_GT(differ, 300);  // about half of the elements flip between independent masks
}

TEST(DropoutTest, ThreadCountIndependent) {
  Rng rng(43);
  const Tensor x = testutil::RandomDense({64, 33}, rng);
  SetNumThreads(1);
  const Tensor one = Dropout(Constant(x), 0.4f, true, 9, 2).value();
  SetNumThreads(2);
  const Tensor two = Dropout(Constant(x), 0.4f, true, 9, 2).value();
  EXPECT_TRUE(testutil::BitIdentical(one.data(), two.data(), one.size()));
}

TEST(DropoutTest, GradientMatchesFiniteDifferences) {
  Rng rng(44);
  Variable x = Leaf(testutil::RandomDense({4, 6}, rng), "x");
  const GradCheckReport r = GradCheck([&] { return Dropout(x, 0.5f, true, 11, 1); }, {LeafInput(x)});
  EXPECT_TRUE(r.ok) << r.first_failure;
}

TEST(DropoutTest, BadPThrows) {
  EXPECT_THROW(Dropout(Constant(Ones(2)), 1.0f, true, 1, 0), Error);
  EXPECT_THROW(Dropout(Constant(Ones(2)), -0.1f, true, 1, 0), Error);
}

}  // namespace
}  // namespace engine
