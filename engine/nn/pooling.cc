// Pooling modules: thin wrappers over engine/ops/pooling.
#include "engine/nn/pooling.h"

#include "engine/base/check.h"
#include "engine/ops/pooling.h"

namespace engine::nn {

MaxPool2dModule::MaxPool2dModule(int64_t kernel, int64_t stride, int64_t padding, std::string name)
    : Module(std::move(name)), kernel_(kernel), stride_(stride), padding_(padding) {
  ENGINE_CHECK(kernel >= 1 && stride >= 1 && padding >= 0, "MaxPool2dModule: kernel = ", kernel, ", stride = ",
               stride, ", padding = ", padding, "; expected kernel, stride >= 1 and padding >= 0");
}

Variable MaxPool2dModule::Forward(const Variable& x) { return MaxPool2d(x, kernel_, stride_, padding_); }

AvgPool2dModule::AvgPool2dModule(int64_t kernel, int64_t stride, int64_t padding, std::string name)
    : Module(std::move(name)), kernel_(kernel), stride_(stride), padding_(padding) {
  ENGINE_CHECK(kernel >= 1 && stride >= 1 && padding >= 0, "AvgPool2dModule: kernel = ", kernel, ", stride = ",
               stride, ", padding = ", padding, "; expected kernel, stride >= 1 and padding >= 0");
}

Variable AvgPool2dModule::Forward(const Variable& x) { return AvgPool2d(x, kernel_, stride_, padding_); }

Variable GlobalAvgPoolModule::Forward(const Variable& x) { return GlobalAvgPool(x); }

}  // namespace engine::nn
