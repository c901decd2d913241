// Dense float32 tensor: contiguous, row-major, 64-byte aligned, owning. Up to 4 dimensions.
// Activations are feature-major ([features, batch], or [channels, batch*height*width] for convs) so the sparse
// kernels vectorise over the contiguous batch axis. A tensor of rank r views as a matrix [shape[0], rest].
#ifndef ENGINE_TENSOR_TENSOR_H_
#define ENGINE_TENSOR_TENSOR_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "engine/tensor/aligned.h"
#include "engine/tensor/views.h"

namespace engine {

class Tensor {
 public:
  Tensor() = default;
  // Zero-filled tensor of the given shape; every dimension must be >= 0.
  explicit Tensor(std::vector<int64_t> shape);
  Tensor(std::initializer_list<int64_t> shape) : Tensor(std::vector<int64_t>(shape)) {}
  // A tensor whose elements are left unset, for an output that the code filling it overwrites whole (every
  // element, whatever the data): saves the zero-fill pass over a buffer that is written next anyway.
  static Tensor Uninitialized(std::vector<int64_t> shape);

  const std::vector<int64_t>& shape() const { return shape_; }
  int64_t dim(int i) const { return shape_[i]; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t size() const { return static_cast<int64_t>(data_.size()); }
  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }
  float& operator[](int64_t i) { return data_[i]; }
  float operator[](int64_t i) const { return data_[i]; }

  // Matrix views: rows = shape[0], cols = product of the other dimensions (1 for rank 0 or 1... see below).
  // A rank-1 tensor [n] views as n x 1.
  DenseView view();
  ConstDenseView view() const;

  void Fill(float value);
  void SetZero() { Fill(0.0f); }
  // Changes the shape without touching data; the element count must stay the same.
  void Reshape(std::vector<int64_t> shape);
  std::string ShapeString() const;

 private:
  std::vector<int64_t> shape_;
  std::vector<float, DefaultInitAlignedAllocator<float>> data_;
};

// Number of elements of a shape; checks each dimension is >= 0.
int64_t ShapeSize(const std::vector<int64_t>& shape);
std::string ShapeToString(const std::vector<int64_t>& shape);

}  // namespace engine

#endif  // ENGINE_TENSOR_TENSOR_H_
