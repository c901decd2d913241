// A 64-byte aligned allocator so that rows of dense buffers start on cache-line (and AVX-512 vector) boundaries.
#ifndef ENGINE_TENSOR_ALIGNED_H_
#define ENGINE_TENSOR_ALIGNED_H_

#include <cstddef>
#include <cstdlib>
#include <new>
#include <utility>
#include <vector>

namespace engine {

template <typename T>
struct AlignedAllocator {
  using value_type = T;
  static constexpr std::size_t kAlignment = 64;
  AlignedAllocator() = default;
  template <typename U>
  AlignedAllocator(const AlignedAllocator<U>&) {}  // NOLINT: allocator rebinding
  T* allocate(std::size_t n) {
    const std::size_t bytes = ((n * sizeof(T) + kAlignment - 1) / kAlignment) * kAlignment;
    void* p = std::aligned_alloc(kAlignment, bytes == 0 ? kAlignment : bytes);
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t) { std::free(p); }
  template <typename U>
  bool operator==(const AlignedAllocator<U>&) const { return true; }
  template <typename U>
  bool operator!=(const AlignedAllocator<U>&) const { return false; }
};

template <typename T>
using AlignedVector = std::vector<T, AlignedAllocator<T>>;

// The same allocation, but a size-only resize leaves new elements default-initialised (for float: unset) instead
// of zero-filling them; a resize or constructor with a value still fills. Tensor's storage, so that outputs a
// kernel overwrites whole skip the zero-fill pass (Tensor::Uninitialized).
template <typename T>
struct DefaultInitAlignedAllocator : AlignedAllocator<T> {
  DefaultInitAlignedAllocator() = default;
  template <typename U>
  DefaultInitAlignedAllocator(const DefaultInitAlignedAllocator<U>&) {}  // NOLINT: allocator rebinding
  template <typename U>
  struct rebind {
    using other = DefaultInitAlignedAllocator<U>;
  };
  template <typename U>
  void construct(U* p) {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

}  // namespace engine

#endif  // ENGINE_TENSOR_ALIGNED_H_
