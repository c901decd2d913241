// Non-owning views of dense float32 matrices: the currency of every kernel.
// A view is rows x cols, row-major, with leading dimension ld >= cols (the stride between rows, in floats).
#ifndef ENGINE_TENSOR_VIEWS_H_
#define ENGINE_TENSOR_VIEWS_H_

#include <cstdint>

namespace engine {

struct ConstDenseView {
  const float* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t ld = 0;

  const float* row(int64_t i) const { return data + i * ld; }
  float at(int64_t i, int64_t j) const { return data[i * ld + j]; }
};

struct DenseView {
  float* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t ld = 0;

  float* row(int64_t i) const { return data + i * ld; }
  float& at(int64_t i, int64_t j) const { return data[i * ld + j]; }
  operator ConstDenseView() const { return {data, rows, cols, ld}; }  // NOLINT: a mutable view is readable
};

}  // namespace engine

#endif  // ENGINE_TENSOR_VIEWS_H_
