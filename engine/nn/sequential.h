// Sequential: owns an ordered list of child modules and applies them in turn. Children carry their own dotted
// names (given at construction, e.g. "layer1.0.conv1"); Sequential does not rename them.
#ifndef ENGINE_NN_SEQUENTIAL_H_
#define ENGINE_NN_SEQUENTIAL_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/nn/module.h"

namespace engine::nn {

class Sequential : public Module {
 public:
  explicit Sequential(std::string name = "") : Module(std::move(name)) {}

  // Takes ownership of `module` and returns a pointer to it.
  Module* Add(std::unique_ptr<Module> module);
  // Constructs a T in place: seq.Emplace<Linear>("fc1", 784, 300, 0.1, -1, seed).
  template <typename T, typename... Args>
  T* Emplace(Args&&... args) {
    auto owned = std::make_unique<T>(std::forward<Args>(args)...);
    T* raw = owned.get();
    Add(std::move(owned));
    return raw;
  }

  Variable Forward(const Variable& x) override;
  void CollectParameters(ParameterList* out) override;
  void CollectBuffers(std::vector<std::pair<std::string, Tensor*>>* out) override;
  void SetTraining(bool training) override;

  int64_t size() const { return static_cast<int64_t>(children_.size()); }
  Module* child(int64_t i) const { return children_[i].get(); }

 private:
  std::vector<std::unique_ptr<Module>> children_;
};

}  // namespace engine::nn

#endif  // ENGINE_NN_SEQUENTIAL_H_
