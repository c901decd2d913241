// Test-only helpers for tests that run the trainer on the installed Fashion-MNIST: whether the data set is there,
// a fresh directory under the test's temporary directory, and a file's bytes.
#ifndef TESTS_RIGL_RUN_FIXTURE_H_
#define TESTS_RIGL_RUN_FIXTURE_H_

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

namespace testutil {

inline bool HaveFashionMnist() {
  struct stat st;
  return stat("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", &st) == 0;
}

// TEST_TMPDIR/name (or /tmp/name outside bazel), created if missing.
inline std::string TempDir(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  const std::string dir = std::string(base ? base : "/tmp") + "/" + name;
  mkdir(dir.c_str(), 0755);
  return dir;
}

// The bytes of a file ("" when it cannot be read).
inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace testutil

#endif  // TESTS_RIGL_RUN_FIXTURE_H_
