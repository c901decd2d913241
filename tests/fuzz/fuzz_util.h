// Shared by the fuzz targets: the input written to a file of this process's own (the readers take paths).
#ifndef TESTS_FUZZ_FUZZ_UTIL_H_
#define TESTS_FUZZ_FUZZ_UTIL_H_

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace fuzz {

// Writes [data, data + size) to a per-process file under $TEST_TMPDIR (or /tmp) and returns its path.
inline std::string WriteInput(const char* stem, const uint8_t* data, size_t size) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/" + stem + "." + std::to_string(getpid());
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) std::abort();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

}  // namespace fuzz

#endif  // TESTS_FUZZ_FUZZ_UTIL_H_
