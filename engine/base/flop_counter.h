// Counted FLOPs: every kernel adds the floating-point operations it actually performed (a multiply-add counts 2),
// once per call, from outside its parallel region. The trainer reads the total to set beside the theoretical count.
#ifndef ENGINE_BASE_FLOP_COUNTER_H_
#define ENGINE_BASE_FLOP_COUNTER_H_

#include <atomic>
#include <cstdint>

namespace engine {

class FlopCounter {
 public:
  static void Add(double flops) { Total().fetch_add(static_cast<uint64_t>(flops), std::memory_order_relaxed); }
  static uint64_t Get() { return Total().load(std::memory_order_relaxed); }
  static void Reset() { Total().store(0, std::memory_order_relaxed); }

 private:
  static std::atomic<uint64_t>& Total() {
    static std::atomic<uint64_t> total{0};
    return total;
  }
};

}  // namespace engine

#endif  // ENGINE_BASE_FLOP_COUNTER_H_
