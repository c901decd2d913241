// The single throwing point behind ENGINE_CHECK.
#include "engine/base/check.h"

#include <cstring>

namespace engine::internal {

void Fail(const char* file, int line, const char* condition, const std::string& message) {
  // Strip the directory so messages stay short but still point at the file.
  const char* base = std::strrchr(file, '/');
  std::string text = Cat(base ? base + 1 : file, ":", line, ": ");
  text += message.empty() ? Cat("check `", condition, "` failed") : message;
  throw Error(text);
}

}  // namespace engine::internal
