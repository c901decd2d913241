// The inner loop of RigL's grow selection: one pass over a row of dense scores that keeps, in order, the cells whose
// magnitude reaches a floor. Vectorised (AVX-512 compress, AVX2 mask walk) with a portable twin; every path returns
// the same entries in the same order, so the selection built on it does not depend on the ISA.
#ifndef ENGINE_SPARSE_MAGNITUDE_SCAN_H_
#define ENGINE_SPARSE_MAGNITUDE_SCAN_H_

#include <cstdint>
#include <cstring>

namespace engine {

// The order key of |x| (ascending magnitude: the bits of a non-negative float order like it). Every NaN maps to one
// key above +inf's.
constexpr uint32_t kInfMagnitudeKey = 0x7f800000u;
constexpr uint32_t kNanMagnitudeKey = 0x7f800001u;
inline uint32_t MagnitudeKey(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  bits &= 0x7fffffffu;
  return bits > kInfMagnitudeKey ? kNanMagnitudeKey : bits;
}

// Entries written past the returned count (a vector path stores whole registers): size keys and flats for n + this.
constexpr int64_t kMagnitudeScanSlack = 16;

// For j in [0, n) in ascending order, takes cell j if row[j] is not NaN and inverted = ~MagnitudeKey(row[j]) <= limit
// (so larger magnitudes have smaller inverted keys and pass first; +inf passes any limit): writes keys[m] = inverted
// and flats[m] = base + j for the m-th cell taken, and returns m. keys and flats need n + kMagnitudeScanSlack
// entries; past m their contents are unspecified.
int64_t CollectByMagnitude(const float* row, int64_t n, int64_t base, uint32_t limit, uint32_t* keys, int64_t* flats);

// The portable path alone (the twin the vector paths are tested against).
int64_t CollectByMagnitudePortable(const float* row, int64_t n, int64_t base, uint32_t limit, uint32_t* keys,
                                   int64_t* flats);

}  // namespace engine

#endif  // ENGINE_SPARSE_MAGNITUDE_SCAN_H_
