// Process memory: the allocator setting for training, and the resident-set readings (current and peak) that the
// trainer, benchmarks and tests report. Linux only (/proc); no allocator of our own and no tracking per tensor.
//
// ReuseFreedMemory: a training step frees and reallocates the same large activation and gradient tensors every step
// (51 MB each for a 100000-wide layer at batch 128). glibc serves blocks above its mmap threshold (at most 32 MiB)
// with fresh mmaps, so every step paid page faults and kernel zeroing for every such tensor: 12 to 17% of the CPU
// time was system time on the beyond-dense MLP.
#ifndef ENGINE_BASE_MEMORY_H_
#define ENGINE_BASE_MEMORY_H_

#include <cstdint>

namespace engine {

// Makes malloc serve every block from its heaps (no per-block mmap) and never return freed heap memory to the
// OS, so freed tensors are reused by the next step. Results do not change (measured bit-identical); peak RSS may
// rise by what fragmentation keeps. Idempotent; call before the first large allocation.
void ReuseFreedMemory();

// Resident set size of this process now (VmRSS of /proc/self/status), in bytes; 0 if it cannot be read.
int64_t RssBytes();
// Peak resident set size of this process so far (VmHWM of /proc/self/status: the kernel's high-water mark, which
// never falls unless reset through /proc/self/clear_refs), in bytes; 0 if it cannot be read.
int64_t PeakRssBytes();

}  // namespace engine

#endif  // ENGINE_BASE_MEMORY_H_
