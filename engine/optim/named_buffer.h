// A named float buffer exposed for checkpointing (optimizer slots such as "fc1.weight.momentum").
#ifndef ENGINE_OPTIM_NAMED_BUFFER_H_
#define ENGINE_OPTIM_NAMED_BUFFER_H_

#include <cstdint>
#include <string>

namespace engine {

struct NamedBuffer {
  std::string name;
  float* data = nullptr;
  int64_t size = 0;
};

}  // namespace engine

#endif  // ENGINE_OPTIM_NAMED_BUFFER_H_
