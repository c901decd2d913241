// See memory.h.
#include "engine/base/memory.h"

#include <malloc.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace engine {
namespace {

// The value of "key:" in /proc/self/status, in bytes (the file reports kB); 0 when absent or unreadable.
int64_t StatusBytes(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(key) + ":";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) return std::atoll(line.c_str() + prefix.size()) * 1024;
  }
  return 0;
}

}  // namespace

void ReuseFreedMemory() {
  mallopt(M_MMAP_MAX, 0);                  // no mmap per block: large blocks come from the heap and are reused
  mallopt(M_TRIM_THRESHOLD, 0x7FFFFFFF);   // and freed heap tops are kept, not handed back and faulted in again
}

int64_t RssBytes() { return StatusBytes("VmRSS"); }

int64_t PeakRssBytes() { return StatusBytes("VmHWM"); }

}  // namespace engine
