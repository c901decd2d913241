// The single throwing point behind ENGINE_CHECK.
#include "engine/base/check.h"

#include <cstdlib>
#include <cstring>

namespace engine {

std::string Describe(const Error& e) {
  const char* debug = std::getenv("ENGINE_DEBUG");
  if (debug == nullptr || *debug == '\0' || e.location().empty()) return e.what();
  return std::string(e.what()) + " [raised at " + e.location() + "]";
}

namespace internal {

void Fail(const char* file, int line, const char* condition, const std::string& message) {
  // Strip the directory so the location stays short but still points at the file.
  const char* base = std::strrchr(file, '/');
  throw Error(message.empty() ? Cat("check `", condition, "` failed") : message,
              Cat(base ? base + 1 : file, ":", line));
}

}  // namespace internal
}  // namespace engine
