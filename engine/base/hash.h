// FNV-1a 64: a byte hash that is stable across runs, platforms and compilers (std::hash is not). Used for names
// (seed streams), weight fingerprints and the replica checks of data-parallel training. Not cryptographic.
#ifndef ENGINE_BASE_HASH_H_
#define ENGINE_BASE_HASH_H_

#include <cstddef>
#include <cstdint>

namespace engine {

inline constexpr uint64_t kFnv1aBasis = 0xCBF29CE484222325ull;

// Continues hash h over bytes [data, data + bytes); start from kFnv1aBasis.
inline uint64_t Fnv1a(uint64_t h, const void* data, size_t bytes) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < bytes; ++i) {
    h ^= p[i];
    h *= 0x100000001B3ull;
  }
  return h;
}

}  // namespace engine

#endif  // ENGINE_BASE_HASH_H_
