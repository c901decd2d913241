// The MPI communicator's collectives, on every rank of an mpirun job (run_mpi_test.sh starts 1, 2 and 3 ranks).
// AllreduceSum's oracle is the ring order written out by hand: element i of chunk c is
// ((x_c + x_{c+1}) + ...) + x_{c-1} in float, which the result must equal bit for bit on every rank; it is also
// compared with the double-precision sum.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/base/hash.h"
#include "engine/base/rng.h"
#include "engine/dist/communicator.h"
#include "tests/engine/dist/mpi_test_env.h"

namespace engine::dist {
namespace {

using testing::world;

// Rank r's value at index i: deterministic, varied in sign and magnitude so rounding shows.
float Value(int rank, int64_t i, int64_t n) {
  const double u = HashUniform(17, static_cast<uint64_t>(rank), static_cast<uint64_t>(i * 7919 + n));
  return static_cast<float>((u - 0.5) * std::pow(10.0, static_cast<int>(u * 8) - 4));
}

TEST(CommunicatorMpi, AllreduceSumIsTheRingOrderOnEveryRank) {
  const int p = world->size(), r = world->rank();
  // Sizes: empty; fewer floats than ranks (empty chunks); not a multiple of the rank count; large enough for many
  // cache lines.
  for (int64_t n : {0, 1, 2, 3, 5, 7, 64, 1000, 4097, 100003}) {
    std::vector<float> data(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) data[i] = Value(r, i, n);
    world->AllreduceSum(data.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      // The chunk holding i: the first n % p chunks hold n / p + 1 floats.
      int c = 0;
      while ((c + 1) * (n / p) + std::min<int64_t>(c + 1, n % p) <= i) ++c;
      float want = Value(c, i, n);
      double exact = Value(c, i, n), magnitude = std::fabs(exact);
      for (int k = 1; k < p; ++k) {
        want = want + Value((c + k) % p, i, n);
        exact += Value((c + k) % p, i, n);
        magnitude += std::fabs(Value((c + k) % p, i, n));
      }
      ASSERT_EQ(data[i], want) << "n " << n << " index " << i << " chunk " << c << " on " << world->Describe();
      ASSERT_LE(std::fabs(data[i] - exact), 1e-6 * magnitude + 1e-30) << "n " << n << " index " << i;
    }
    // The same bits on every rank.
    const uint64_t h = Fnv1a(kFnv1aBasis, data.data(), data.size() * 4);
    for (uint64_t other : AllgatherU64(*world, h)) EXPECT_EQ(other, h) << "n " << n;
  }
}

TEST(CommunicatorMpi, AllreduceSumRepeatsBitForBit) {
  const int64_t n = 12345;
  std::vector<float> a(n), b(n);
  for (int64_t i = 0; i < n; ++i) a[i] = b[i] = Value(world->rank(), i, 1);
  world->AllreduceSum(a.data(), n);
  world->AllreduceSum(b.data(), n);
  EXPECT_EQ(a, b);
}

TEST(CommunicatorMpi, AllgatherAndBroadcast) {
  const int p = world->size(), r = world->rank();
  const std::vector<uint64_t> ranks = AllgatherU64(*world, static_cast<uint64_t>(100 + r));
  ASSERT_EQ(static_cast<int>(ranks.size()), p);
  for (int q = 0; q < p; ++q) EXPECT_EQ(ranks[q], static_cast<uint64_t>(100 + q));
  const std::vector<double> d = AllgatherDoubles(*world, {0.5 * r, -1.0 * r});
  ASSERT_EQ(static_cast<int>(d.size()), 2 * p);
  for (int q = 0; q < p; ++q) {
    EXPECT_EQ(d[2 * q], 0.5 * q);
    EXPECT_EQ(d[2 * q + 1], -1.0 * q);
  }
  const int root = p - 1;
  const std::string text = r == root ? std::string(3000, 'x') + "end" : "ignored";
  EXPECT_EQ(BroadcastString(*world, text, root), std::string(3000, 'x') + "end");
  EXPECT_EQ(BroadcastString(*world, "", 0), "");
}

TEST(CommunicatorMpi, CountsTheBytesItSends) {
  const int p = world->size();
  const int64_t n = 3000;
  std::vector<float> data(n, 1.0f);
  const int64_t before = world->bytes_sent();
  world->AllreduceSum(data.data(), n);
  // 2 (p - 1) chunk sends of n / p floats each (n divisible by 1, 2 and 3).
  EXPECT_EQ(world->bytes_sent() - before, 2 * (p - 1) * (n / p) * 4);
  for (float v : data) ASSERT_EQ(v, static_cast<float>(p));
}

}  // namespace
}  // namespace engine::dist
