// Internal to engine/kernels (and the kernel benchmarks): the one spelling of each vector ISA's GCC target
// attribute. A function compiled with one of these may only run after the matching engine/base/cpu check:
// ENGINE_TARGET_AVX2 after engine::CpuHasAvx2() (ActiveIsa() >= Isa::kAvx2), ENGINE_TARGET_AVX512 after
// engine::CpuHasAvx512() (ActiveIsa() == Isa::kAvx512). Those checks test exactly the features listed here: a
// feature added to a list must be added to its check.
#ifndef ENGINE_KERNELS_ISA_TARGET_H_
#define ENGINE_KERNELS_ISA_TARGET_H_

// The x86 intrinsics, for every file that uses them: include this header, not <immintrin.h>. GCC 12's AVX-512
// headers initialise their "undefined" vectors from themselves (`__m512 __Y = __Y;`), which -Wall reports as
// -Wuninitialized / -Wmaybe-uninitialized wherever an intrinsic using one (_mm512_max_ps, _mm512_shuffle_f32x4, ...)
// is inlined: hundreds of false warnings per build (GCC bug 105593, fixed in GCC 13). They are silenced for the
// header's own lines only; our code keeps both warnings.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

// AVX2 with FMA (Haswell and later, AMD Zen).
#define ENGINE_TARGET_AVX2 __attribute__((target("avx2,fma")))
// AVX-512 F, VL, DQ and BW with FMA (Skylake-SP and later: what every AVX-512 CPU since has).
#define ENGINE_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,fma")))

#endif  // ENGINE_KERNELS_ISA_TARGET_H_
