// CollectByMagnitude on every ISA path against an oracle that compares floats (|x| >= t, x not NaN) rather than bits.
#include "engine/sparse/magnitude_scan.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "engine/base/cpu.h"
#include "engine/base/rng.h"

namespace {

uint32_t Bits(float x) {
  uint32_t b;
  std::memcpy(&b, &x, sizeof(b));
  return b;
}

// A row mixing ties, signed zeros, denormals, +-inf and NaNs of both signs.
std::vector<float> HostileRow(int64_t n, engine::Rng& rng) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const float specials[] = {0.0f, -0.0f, 1e-40f, -1e-40f, inf, -inf, nan, -nan, 0.5f, -0.5f, 0.25f};
  std::vector<float> row(n);
  for (float& x : row) {
    const float u = rng.UniformFloat(0, 1);
    x = u < 0.3f ? specials[static_cast<int>(rng.UniformInt(11))] : rng.UniformFloat(-1, 1);
  }
  return row;
}

class MagnitudeScanTest : public ::testing::Test {
 protected:
  void TearDown() override { engine::ForcePortableIsa(false); }
};

TEST_F(MagnitudeScanTest, TakesExactlyTheNumbersAtOrAboveTheFloorInOrderOnEveryIsa) {
  engine::Rng rng(11);
  const float inf = std::numeric_limits<float>::infinity();
  for (int64_t n : {0, 1, 7, 8, 15, 16, 17, 31, 33, 100, 1000}) {
    for (int64_t offset : {0, 1, 3}) {  // misaligned rows
      std::vector<float> buffer = HostileRow(n + offset, rng);
      const float* row = buffer.data() + offset;
      const float floors[] = {0.0f, 1e-40f, 0.25f, 0.5f, rng.UniformFloat(0, 1), 0.999f, inf};
      for (float t : floors) {
        const uint32_t limit = ~Bits(t);  // inverted <= ~bits(t)  <=>  bits(|x|) >= bits(t)
        const int64_t base = 1000003 * offset + 5;
        std::vector<uint32_t> want_keys;
        std::vector<int64_t> want_flats;
        for (int64_t j = 0; j < n; ++j) {
          if (!std::isnan(row[j]) && std::fabs(row[j]) >= t) {
            want_keys.push_back(~Bits(std::fabs(row[j])));
            want_flats.push_back(base + j);
          }
        }
        for (engine::Isa isa : engine::SupportedIsas()) {
          engine::LimitIsa(isa);
          std::vector<uint32_t> keys(n + engine::kMagnitudeScanSlack);
          std::vector<int64_t> flats(n + engine::kMagnitudeScanSlack);
          const int64_t m = engine::CollectByMagnitude(row, n, base, limit, keys.data(), flats.data());
          ASSERT_EQ(m, static_cast<int64_t>(want_flats.size())) << engine::IsaName(isa) << " n " << n << " t " << t;
          keys.resize(m);
          flats.resize(m);
          EXPECT_EQ(keys, want_keys) << engine::IsaName(isa) << " n " << n << " t " << t;
          EXPECT_EQ(flats, want_flats) << engine::IsaName(isa) << " n " << n << " t " << t;
        }
      }
    }
  }
}

TEST_F(MagnitudeScanTest, LimitZeroTakesNothingAndLimitMaxTakesEveryNumber) {
  engine::Rng rng(12);
  const std::vector<float> row = HostileRow(200, rng);
  int64_t numbers = 0;
  for (float x : row) numbers += !std::isnan(x);
  for (engine::Isa isa : engine::SupportedIsas()) {
    engine::LimitIsa(isa);
    std::vector<uint32_t> keys(row.size() + engine::kMagnitudeScanSlack);
    std::vector<int64_t> flats(row.size() + engine::kMagnitudeScanSlack);
    EXPECT_EQ(engine::CollectByMagnitude(row.data(), 200, 0, 0u, keys.data(), flats.data()), 0) << engine::IsaName(isa);
    EXPECT_EQ(engine::CollectByMagnitude(row.data(), 200, 0, 0xffffffffu, keys.data(), flats.data()), numbers)
        << engine::IsaName(isa);
  }
}

}  // namespace
