// The Module base class: something with a Forward, named parameters, optional non-parameter buffers (e.g. batch
// norm running statistics, which checkpoints must save) and a training/inference mode. Modules own their
// parameters; ParameterList holds non-owning pointers into them.
#ifndef ENGINE_NN_MODULE_H_
#define ENGINE_NN_MODULE_H_

#include <string>
#include <utility>
#include <vector>

#include "engine/autograd/parameter.h"
#include "engine/autograd/variable.h"
#include "engine/tensor/tensor.h"

namespace engine::nn {

class Module {
 public:
  explicit Module(std::string name = "") : name_(std::move(name)) {}
  virtual ~Module();
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  virtual Variable Forward(const Variable& x) = 0;
  // Appends this module's (and its children's) parameters, in construction order. Default: none.
  virtual void CollectParameters(ParameterList* out);
  // Appends named non-parameter state to save in checkpoints ("bn1.running_mean", tensor). Default: none.
  virtual void CollectBuffers(std::vector<std::pair<std::string, Tensor*>>* out);
  // Switches training mode (dropout, batch statistics) here and in every child.
  virtual void SetTraining(bool training) { training_ = training; }
  bool training() const { return training_; }
  const std::string& name() const { return name_; }

 protected:
  // "name.suffix", or just "suffix" when the module is unnamed.
  std::string Child(const std::string& suffix) const { return name_.empty() ? suffix : name_ + "." + suffix; }

 private:
  std::string name_;
  bool training_ = true;
};

}  // namespace engine::nn

#endif  // ENGINE_NN_MODULE_H_
