// Wall-clock timer for progress lines and benchmarks (never used by tests to judge anything).
#ifndef ENGINE_BASE_TIMER_H_
#define ENGINE_BASE_TIMER_H_

#include <chrono>

namespace engine {

class Timer {
 public:
  Timer() : start_(std::chrono::steady_clock::now()) {}
  void Reset() { start_ = std::chrono::steady_clock::now(); }
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace engine

#endif  // ENGINE_BASE_TIMER_H_
