// Seeded random numbers whose streams do not depend on the thread count.
// Rng is a small sequential generator (SplitMix64 seeding a xoshiro256**); Stream(seed, id) derives an independent
// generator for a named unit of work (a layer, a row block), so parallel code draws the same numbers whatever the
// number of threads. HashUniform is stateless (counter-based), for per-element noise.
#ifndef ENGINE_BASE_RNG_H_
#define ENGINE_BASE_RNG_H_

#include <cmath>
#include <cstdint>

namespace engine {

// SplitMix64 finaliser: a bijective 64-bit mix.
inline uint64_t Mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Uniform in [0, 1) from (seed, a, b) with no state: the same triple always gives the same number.
inline double HashUniform(uint64_t seed, uint64_t a, uint64_t b = 0) {
  const uint64_t h = Mix64(Mix64(seed ^ Mix64(a)) ^ (b * 0xD6E8FEB86659FD93ull));
  return static_cast<double>(h >> 11) * (1.0 / 9007199254740992.0);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) { Seed(seed); }

  // An independent generator for unit of work `id` under `seed`.
  static Rng Stream(uint64_t seed, uint64_t id) { return Rng(Mix64(seed) ^ Mix64(id * 0x9E3779B97F4A7C15ull + 1)); }

  void Seed(uint64_t seed) {
    uint64_t x = seed;
    for (uint64_t& s : state_) {
      x += 0x9E3779B97F4A7C15ull;
      s = Mix64(x);
    }
  }

  uint64_t Next() {
    const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }

  // Uniform integer in [0, bound), bound > 0 (Lemire's multiply-shift with rejection, unbiased).
  uint64_t UniformInt(uint64_t bound) {
    const uint64_t threshold = (0 - bound) % bound;
    for (;;) {
      const unsigned __int128 product = static_cast<unsigned __int128>(Next()) * bound;
      if (static_cast<uint64_t>(product) >= threshold) return static_cast<uint64_t>(product >> 64);
    }
  }

  double Uniform() { return static_cast<double>(Next() >> 11) * (1.0 / 9007199254740992.0); }
  float UniformFloat(float lo, float hi) { return lo + static_cast<float>(Uniform()) * (hi - lo); }

  // Standard normal by Box-Muller (one value per call; simple and reproducible).
  double Normal() {
    double u1 = Uniform();
    while (u1 <= 0.0) u1 = Uniform();
    const double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

  // The full state, for checkpoints.
  const uint64_t* state() const { return state_; }
  void set_state(const uint64_t s[4]) {
    for (int i = 0; i < 4; ++i) state_[i] = s[i];
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state_[4];
};

}  // namespace engine

#endif  // ENGINE_BASE_RNG_H_
