// Internal to engine/kernels (and the kernel benchmarks): the one spelling of each vector ISA's GCC target
// attribute. A function compiled with one of these may only run after the matching engine/base/cpu check:
// ENGINE_TARGET_AVX2 after engine::CpuHasAvx2() (ActiveIsa() >= Isa::kAvx2), ENGINE_TARGET_AVX512 after
// engine::CpuHasAvx512() (ActiveIsa() == Isa::kAvx512). Those checks test exactly the features listed here: a
// feature added to a list must be added to its check.
#ifndef ENGINE_KERNELS_ISA_TARGET_H_
#define ENGINE_KERNELS_ISA_TARGET_H_

// AVX2 with FMA (Haswell and later, AMD Zen).
#define ENGINE_TARGET_AVX2 __attribute__((target("avx2,fma")))
// AVX-512 F, VL, DQ and BW with FMA (Skylake-SP and later: what every AVX-512 CPU since has).
#define ENGINE_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,fma")))

#endif  // ENGINE_KERNELS_ISA_TARGET_H_
