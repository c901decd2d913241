// See memory.h.
#include "engine/base/memory.h"

#include <malloc.h>

namespace engine {

void ReuseFreedMemory() {
  mallopt(M_MMAP_MAX, 0);                  // no mmap per block: large blocks come from the heap and are reused
  mallopt(M_TRIM_THRESHOLD, 0x7FFFFFFF);   // and freed heap tops are kept, not handed back and faulted in again
}

}  // namespace engine
