// FixedOrderSum and FixedOrderSum2 against sums written out by hand in their documented order, and against each
// other bit for bit.
#include "engine/base/fixed_order_sum.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

namespace {

// Values whose float sum depends on the order: magnitudes from 1e-3 to 1e8 with alternating signs.
std::vector<float> Values(int64_t m) {
  std::vector<float> v(static_cast<size_t>(m));
  uint32_t s = 12345;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    const double mag = std::pow(10.0, static_cast<double>(s % 12) - 3.0);
    x = static_cast<float>((s & 1u) ? mag : -mag) * (1.0f + static_cast<float>(s % 1000) / 1000.0f);
  }
  return v;
}

bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof(a)) == 0; }

TEST(FixedOrderSum, MatchesTheDocumentedOrderWrittenOut) {
  for (int64_t m : {0, 1, 7, 8, 9, 15, 16, 17, 100, 1003}) {
    const std::vector<float> v = Values(m);
    double p[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= m; i += 8) {
      for (int j = 0; j < 8; ++j) p[j] += static_cast<double>(v[i + j]);
    }
    double expected = ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
    for (; i < m; ++i) expected += static_cast<double>(v[i]);
    const double got = engine::FixedOrderSum(m, [&v](int64_t k) { return static_cast<double>(v[k]); });
    EXPECT_TRUE(SameBits(got, expected)) << "m = " << m << ": " << got << " vs " << expected;
  }
}

TEST(FixedOrderSum2, SameBitsAsTwoSeparateSums) {
  for (int64_t m : {0, 1, 7, 8, 9, 64, 65, 1003, 100352}) {
    const std::vector<float> a = Values(m), b = Values(m + 3);
    const double mu = 0.37, scale = 1.9;
    const double sum_a = engine::FixedOrderSum(m, [&a](int64_t k) { return static_cast<double>(a[k]); });
    const double sum_ab =
        engine::FixedOrderSum(m, [&a, &b, mu, scale](int64_t k) { return a[k] * ((b[k] - mu) * scale); });
    double got_a = -1, got_ab = -1;
    engine::FixedOrderSum2(
        m,
        [&a, &b, mu, scale](int64_t k, double* x, double* y) {
          *x = a[k];
          *y = a[k] * ((b[k] - mu) * scale);
        },
        &got_a, &got_ab);
    EXPECT_TRUE(SameBits(got_a, sum_a)) << "m = " << m;
    EXPECT_TRUE(SameBits(got_ab, sum_ab)) << "m = " << m;
    // And both near the exact sum (long double accumulation as the oracle).
    long double exact = 0;
    for (int64_t k = 0; k < m; ++k) exact += static_cast<long double>(a[k]);
    EXPECT_NEAR(static_cast<double>(exact), got_a, 1e-9 * (1.0 + std::fabs(static_cast<double>(exact))) + 1e-3);
  }
}

}  // namespace
