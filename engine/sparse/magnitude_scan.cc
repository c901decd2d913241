// CollectByMagnitude's three paths (see magnitude_scan.h).
#include "engine/sparse/magnitude_scan.h"

#include <cstring>

#include "engine/base/cpu.h"
#include "engine/kernels/isa_target.h"

namespace engine {
namespace {

constexpr uint32_t kAbs = 0x7fffffffu;  // the vector paths' |x| mask
constexpr uint32_t kInf = kInfMagnitudeKey;

// Branch-free: writes every cell, advances past those taken.
int64_t ScalarRun(const float* row, int64_t j0, int64_t n, int64_t base, uint32_t limit, uint32_t* keys,
                  int64_t* flats) {
  int64_t m = 0;
  for (int64_t j = j0; j < n; ++j) {
    const uint32_t magnitude = MagnitudeKey(row[j]);
    const uint32_t inverted = ~magnitude;
    keys[m] = inverted;
    flats[m] = base + j;
    m += static_cast<int64_t>((magnitude != kNanMagnitudeKey) & (inverted <= limit));
  }
  return m;
}

ENGINE_TARGET_AVX512 int64_t CollectAvx512(const float* row, int64_t n, int64_t base, uint32_t limit, uint32_t* keys,
                                           int64_t* flats) {
  const __m512i abs = _mm512_set1_epi32(static_cast<int>(kAbs)), inf = _mm512_set1_epi32(static_cast<int>(kInf));
  const __m512i ones = _mm512_set1_epi32(-1), lim = _mm512_set1_epi32(static_cast<int>(limit));
  const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i base8 = _mm512_set1_epi64(base);
  int64_t m = 0, j = 0;
  for (; j + 16 <= n; j += 16) {
    const __m512i bits = _mm512_and_si512(_mm512_loadu_si512(row + j), abs);
    const __m512i inverted = _mm512_xor_si512(bits, ones);
    const __mmask16 take = _mm512_cmple_epu32_mask(bits, inf) & _mm512_cmple_epu32_mask(inverted, lim);
    if (take == 0) continue;
    // Register-form compress (the memory form is microcoded and slow on AMD), then whole-register stores.
    _mm512_storeu_si512(keys + m, _mm512_maskz_compress_epi32(take, inverted));
    const __m512i column = _mm512_add_epi32(lanes, _mm512_set1_epi32(static_cast<int>(j)));
    const __m512i idx = _mm512_maskz_compress_epi32(take, column);
    _mm512_storeu_si512(flats + m, _mm512_add_epi64(_mm512_cvtepi32_epi64(_mm512_castsi512_si256(idx)), base8));
    _mm512_storeu_si512(flats + m + 8,
                        _mm512_add_epi64(_mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(idx, 1)), base8));
    m += __builtin_popcount(static_cast<unsigned>(take));
  }
  return m + ScalarRun(row, j, n, base, limit, keys + m, flats + m);
}

ENGINE_TARGET_AVX2 int64_t CollectAvx2(const float* row, int64_t n, int64_t base, uint32_t limit, uint32_t* keys,
                                       int64_t* flats) {
  // Signed compares stand in for unsigned ones: bits has its top bit clear, and inverted <= limit (unsigned) is
  // inverted ^ sign <= limit ^ sign (signed).
  const __m256i abs = _mm256_set1_epi32(static_cast<int>(kAbs));
  const __m256i inf1 = _mm256_set1_epi32(static_cast<int>(kInf + 1));
  const __m256i lim1 = _mm256_set1_epi32(static_cast<int>((limit ^ 0x80000000u)));
  int64_t m = 0, j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256i bits = _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + j)), abs);
    const __m256i number = _mm256_cmpgt_epi32(inf1, bits);
    // inverted ^ sign = ~bits ^ sign = bits ^ kAbs; take where it is not greater than limit ^ sign.
    const __m256i over = _mm256_cmpgt_epi32(_mm256_xor_si256(bits, abs), lim1);
    unsigned take = static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_andnot_si256(over, number))));
    while (take != 0) {
      const int lane = __builtin_ctz(take);
      take &= take - 1;
      uint32_t b;
      std::memcpy(&b, row + j + lane, sizeof(b));
      keys[m] = ~(b & kAbs);
      flats[m] = base + j + lane;
      ++m;
    }
  }
  return m + ScalarRun(row, j, n, base, limit, keys + m, flats + m);
}

}  // namespace

int64_t CollectByMagnitudePortable(const float* row, int64_t n, int64_t base, uint32_t limit, uint32_t* keys,
                                   int64_t* flats) {
  return ScalarRun(row, 0, n, base, limit, keys, flats);
}

int64_t CollectByMagnitude(const float* row, int64_t n, int64_t base, uint32_t limit, uint32_t* keys, int64_t* flats) {
  switch (ActiveIsa()) {
    case Isa::kAvx512:
      return CollectAvx512(row, n, base, limit, keys, flats);
    case Isa::kAvx2:
      return CollectAvx2(row, n, base, limit, keys, flats);
    default:
      return CollectByMagnitudePortable(row, n, base, limit, keys, flats);
  }
}

}  // namespace engine
