// Dense tensor storage.
#include "engine/tensor/tensor.h"

#include <algorithm>

#include "engine/base/check.h"

namespace engine {

int64_t ShapeSize(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    ENGINE_CHECK(d >= 0, "tensor shape ", ShapeToString(shape), ": dimension ", d, " given; expected >= 0");
    n *= d;
  }
  return n;
}

std::string ShapeToString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

Tensor::Tensor(std::vector<int64_t> shape) : shape_(std::move(shape)), data_(ShapeSize(shape_), 0.0f) {}

Tensor Tensor::Uninitialized(std::vector<int64_t> shape) {
  Tensor t;
  t.data_.resize(static_cast<size_t>(ShapeSize(shape)));  // default-initialised: no fill
  t.shape_ = std::move(shape);
  return t;
}

DenseView Tensor::view() {
  const int64_t rows = shape_.empty() ? 1 : shape_[0];
  const int64_t cols = rows == 0 ? 0 : size() / std::max<int64_t>(rows, 1);
  return {data_.data(), rows, cols, cols};
}

ConstDenseView Tensor::view() const {
  const int64_t rows = shape_.empty() ? 1 : shape_[0];
  const int64_t cols = rows == 0 ? 0 : size() / std::max<int64_t>(rows, 1);
  return {data_.data(), rows, cols, cols};
}

void Tensor::Fill(float value) { std::fill(data_.begin(), data_.end(), value); }

void Tensor::Reshape(std::vector<int64_t> shape) {
  ENGINE_CHECK(ShapeSize(shape) == size(), "Tensor::Reshape: ", ShapeToString(shape_), " to ", ShapeToString(shape),
               "; expected the same element count");
  shape_ = std::move(shape);
}

std::string Tensor::ShapeString() const { return ShapeToString(shape_); }

}  // namespace engine
