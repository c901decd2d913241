// Thread-count setting and per-thread floating-point set-up for the OpenMP worker threads that run kernels.
// Denormal floats slow sparse training several-fold, so every worker gets flush-to-zero and denormals-are-zero.
#ifndef ENGINE_BASE_PARALLEL_H_
#define ENGINE_BASE_PARALLEL_H_

namespace engine {

// Sets the number of OpenMP threads used by every kernel (and by OpenBLAS, which shares the pool), then sets
// FTZ/DAZ on each thread of the pool. threads must be >= 1.
void SetNumThreads(int threads);
int NumThreads();

// Sets FTZ/DAZ on the calling thread.
void EnableFlushToZero();
// Sets FTZ/DAZ on every thread of the current OpenMP pool (called by SetNumThreads; call again if a pool is
// created some other way).
void EnableFlushToZeroOnAllThreads();
// True when the calling thread has both FTZ and DAZ set.
bool FlushToZeroEnabled();

}  // namespace engine

#endif  // ENGINE_BASE_PARALLEL_H_
