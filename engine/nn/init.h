// Parameter initialisation helpers shared by the nn modules: a stable hash of a parameter name (to derive its
// random stream) and the Glorot-uniform limit.
#ifndef ENGINE_NN_INIT_H_
#define ENGINE_NN_INIT_H_

#include <cmath>
#include <cstdint>
#include <string>

namespace engine::nn {

// FNV-1a 64 of the name: stable across runs, platforms and compilers (std::hash is not).
inline uint64_t NameHash(const std::string& name) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : name) {
    h ^= c;
    h *= 0x100000001B3ull;
  }
  return h;
}

// Glorot (Xavier) uniform limit for the dense fan-in and fan-out.
inline float GlorotLimit(int64_t fan_in, int64_t fan_out) {
  return static_cast<float>(std::sqrt(6.0 / static_cast<double>(fan_in + fan_out)));
}

}  // namespace engine::nn

#endif  // ENGINE_NN_INIT_H_
