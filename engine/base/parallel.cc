// OpenMP thread count and FTZ/DAZ set-up.
#include "engine/base/parallel.h"

#include <omp.h>
#include <xmmintrin.h>
#include <pmmintrin.h>

#include "engine/base/check.h"

namespace engine {

void SetNumThreads(int threads) {
  ENGINE_CHECK(threads >= 1, "thread count: ", threads, " given; expected >= 1");
  omp_set_num_threads(threads);
  EnableFlushToZeroOnAllThreads();
}

int NumThreads() { return omp_get_max_threads(); }

void EnableFlushToZero() {
  _MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_ON);
  _MM_SET_DENORMALS_ZERO_MODE(_MM_DENORMALS_ZERO_ON);
}

void EnableFlushToZeroOnAllThreads() {
  EnableFlushToZero();
#pragma omp parallel
  { EnableFlushToZero(); }
}

bool FlushToZeroEnabled() {
  return _MM_GET_FLUSH_ZERO_MODE() == _MM_FLUSH_ZERO_ON && _MM_GET_DENORMALS_ZERO_MODE() == _MM_DENORMALS_ZERO_ON;
}

}  // namespace engine
