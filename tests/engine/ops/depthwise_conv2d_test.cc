// DepthwiseConv2d op: forward against the double direct-convolution oracle of the equivalent dense conv (weight
// zero off its diagonal blocks), input and weight gradients against central differences, and input validation.
#include "engine/ops/depthwise_conv2d.h"

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
    {2, 3, 5, 5, 3, 3, 3, 1, 1, 1.0, "3x3 stride 1 'same' (the flipped-filter input gradient)"},
    {2, 3, 6, 5, 3, 3, 3, 2, 1, 1.0, "3x3 stride 2 on a rectangular image (the scatter input gradient)"},
    {1, 2, 7, 7, 2, 5, 5, 1, 2, 1.0, "5x5 pad 2: the run-time filter width"},
};

class DepthwiseConv2dOpTest : public ::testing::TestWithParam<ConvCase> {
 protected:
  void SetUp() override {
    const ConvCase& c = GetParam();
    cp_ = c.params();
    Rng rng(37);
    w_ = DenseParameter("features.2.conv.1.0.weight", testutil::RandomDense({c.c, 1, c.r, c.s}, rng));
    x_ = Leaf(testutil::RandomDense({c.c, c.n, c.h, c.w}, rng), "x");
  }
  kernels::Conv2dParams cp_;
  DenseParameter w_;
  Variable x_;
};

TEST_P(DepthwiseConv2dOpTest, ForwardMatchesDenseConvOracle) {
  const Variable y = DepthwiseConv2d(x_, w_, cp_.stride, cp_.pad);
  ASSERT_EQ(y.shape(), (std::vector<int64_t>{cp_.in_channels, cp_.batch, cp_.out_h(), cp_.out_w()}));
  const int64_t taps = cp_.kernel_h * cp_.kernel_w, c = cp_.in_channels;
  Tensor dense({c, c * taps});
  for (int64_t ch = 0; ch < c; ++ch) {
    for (int64_t t = 0; t < taps; ++t) dense[ch * c * taps + ch * taps + t] = w_.var.value()[ch * taps + t];
  }
  const std::vector<double> expected = testutil::ConvForwardF64(cp_, dense, x_.value());
  const std::vector<float> got(y.value().data(), y.value().data() + y.value().size());
  EXPECT_TRUE(testutil::AllClose(got, expected, 1e-5)) << GetParam().why;
}

TEST_P(DepthwiseConv2dOpTest, GradientsMatchFiniteDifferences) {
  const GradCheckReport r = GradCheck([this] { return DepthwiseConv2d(x_, w_, cp_.stride, cp_.pad); },
                                      {LeafInput(x_), LeafInput(w_.var)});
  EXPECT_TRUE(r.ok) << GetParam().why << ": " << r.first_failure;
  EXPECT_EQ(r.checked, x_.value().size() + w_.var.value().size());
}

INSTANTIATE_TEST_SUITE_P(Shapes, DepthwiseConv2dOpTest, ::testing::ValuesIn(kCases));

TEST(DepthwiseConv2dOp, BadShapesNameTheParameter) {
  DenseParameter w("features.1.conv.0.0.weight", Tensor({4, 1, 3, 3}));
  try {
    DepthwiseConv2d(Constant(Tensor({3, 1, 5, 5})), w, 1, 1);  // 3 channels for a 4-channel filter bank
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("features.1.conv.0.0.weight"), std::string::npos) << e.what();
  }
  DenseParameter grouped("grouped.weight", Tensor({4, 2, 3, 3}));  // depth multiplier != 1
  EXPECT_THROW(DepthwiseConv2d(Constant(Tensor({4, 1, 5, 5})), grouped, 1, 1), Error);
  EXPECT_THROW(DepthwiseConv2d(Constant(Tensor({4, 1, 2, 2})), w, 1, 0), Error);  // 3x3 on 2x2, no pad
}

}  // namespace
}  // namespace engine
