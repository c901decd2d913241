// Process-wide allocator setting for training. A training step frees and reallocates the same large activation
// and gradient tensors every step (51 MB each for a 100000-wide layer at batch 128). glibc serves blocks above its
// mmap threshold (at most 32 MiB) with fresh mmaps, so every step paid page faults and kernel zeroing for every
// such tensor: 12 to 17% of the CPU time was system time on the beyond-dense MLP.
#ifndef ENGINE_BASE_MEMORY_H_
#define ENGINE_BASE_MEMORY_H_

namespace engine {

// Makes malloc serve every block from its heaps (no per-block mmap) and never return freed heap memory to the
// OS, so freed tensors are reused by the next step. Results do not change (measured bit-identical); peak RSS may
// rise by what fragmentation keeps. Idempotent; call before the first large allocation.
void ReuseFreedMemory();

}  // namespace engine

#endif  // ENGINE_BASE_MEMORY_H_
