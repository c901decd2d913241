// Conv2d op (dense weight): forward vs the double direct-convolution oracle, input/weight/bias gradients vs
// central differences, and input validation.
#include "engine/ops/conv2d.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/autograd/gradcheck.h"
#include "engine/base/check.h"
#include "tests/engine/kernels/conv2d_cases.h"
#include "tests/testutil/testutil.h"

namespace engine {
namespace {

using testutil::ConvCase;

const ConvCase kCases[] = {
    {2, 2, 5, 5, 3, 3, 3, 1, 1, 1.0, "3x3 pad 1 (same)"},
    {2, 2, 6, 5, 3, 3, 3, 2, 1, 1.0, "stride 2 on a rectangular image"},
    {2, 3, 4, 4, 2, 1, 1, 1, 0, 1.0, "pointwise: one sgemm, no im2col"},
    {1, 1, 7, 7, 2, 5, 5, 1, 2, 1.0, "5x5 pad 2, one input channel"},
};

class Conv2dOpTest : public ::testing::TestWithParam<ConvCase> {
 protected:
  void SetUp() override {
    const ConvCase& c = GetParam();
    cp_ = c.params();
    Rng rng(31);
    w_ = DenseParameter("stem.conv.weight", testutil::RandomDense({c.k, c.c, c.r, c.s}, rng));
    b_ = DenseParameter("stem.conv.bias", testutil::RandomDense({c.k}, rng));
    x_ = Leaf(testutil::RandomDense({c.c, c.n, c.h, c.w}, rng), "x");
  }
  kernels::Conv2dParams cp_;
  DenseParameter w_, b_;
  Variable x_;
};

TEST_P(Conv2dOpTest, ForwardMatchesDoubleOracle) {
  const Variable y = Conv2d(x_, w_, &b_, cp_.stride, cp_.pad);
  ASSERT_EQ(y.shape(), (std::vector<int64_t>{cp_.out_channels, cp_.batch, cp_.out_h(), cp_.out_w()}));
  std::vector<double> expected = testutil::ConvForwardF64(cp_, w_.var.value(), x_.value());
  const int64_t per_channel = static_cast<int64_t>(expected.size()) / cp_.out_channels;
  for (size_t i = 0; i < expected.size(); ++i) expected[i] += b_.var.value()[static_cast<int64_t>(i) / per_channel];
  const std::vector<float> got(y.value().data(), y.value().data() + y.value().size());
  EXPECT_TRUE(testutil::AllClose(got, expected, 1e-5)) << GetParam().why;
}

TEST_P(Conv2dOpTest, GradientsMatchFiniteDifferences) {
  const GradCheckReport r = GradCheck([this] { return Conv2d(x_, w_, &b_, cp_.stride, cp_.pad); },
                                      {LeafInput(x_), LeafInput(w_.var), LeafInput(b_.var)});
  EXPECT_TRUE(r.ok) << GetParam().why << ": " << r.first_failure;
  EXPECT_EQ(r.checked, x_.value().size() + w_.var.value().size() + cp_.out_channels);
}

INSTANTIATE_TEST_SUITE_P(Shapes, Conv2dOpTest, ::testing::ValuesIn(kCases));

TEST(Conv2dOp, BadShapesNameTheParameter) {
  DenseParameter w("layer3.conv.weight", Tensor({4, 3, 3, 3}));
  try {
    Conv2d(Constant(Tensor({2, 1, 5, 5})), w, nullptr, 1, 1);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("layer3.conv.weight"), std::string::npos) << e.what();
  }
  DenseParameter flat("flat.weight", Tensor({4, 27}));
  EXPECT_THROW(Conv2d(Constant(Tensor({3, 1, 5, 5})), flat, nullptr, 1, 1), Error);  // weight not rank 4
  EXPECT_THROW(Conv2d(Constant(Tensor({3, 1, 2, 2})), w, nullptr, 1, 0), Error);     // 3x3 filter on 2x2, no pad
}

}  // namespace
}  // namespace engine
