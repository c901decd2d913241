// The 16-float vector the one-source-per-ISA kernels (conv2d_direct, conv2d_plane) compute with: GCC lowers it to one
// zmm (AVX-512), two ymm (AVX2) or four xmm (portable) in each ISA's copy. Internal to engine/kernels. Its helpers are
// always_inline: a V16 never crosses a call, so the ABI GCC's -Wpsabi note warns about never applies.
#ifndef ENGINE_KERNELS_V16_H_
#define ENGINE_KERNELS_V16_H_

namespace engine::kernels::internal {

typedef float V16 __attribute__((vector_size(64)));

inline __attribute__((always_inline)) V16 LoadV16(const float* p) {
  V16 v;
  __builtin_memcpy(&v, p, sizeof(v));
  return v;
}
inline __attribute__((always_inline)) void StoreV16(float* p, V16 v) { __builtin_memcpy(p, &v, sizeof(v)); }

}  // namespace engine::kernels::internal

#endif  // ENGINE_KERNELS_V16_H_
