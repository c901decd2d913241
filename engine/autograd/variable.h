// Reverse-mode autograd: Variable (a cheap shared handle to a node holding a value, a lazily allocated gradient
// and, for op results, the parents plus a backward closure), and Backward(). Ops live in engine/ops, each with its
// backward closure written next to its forward; this file knows nothing about any particular op.
#ifndef ENGINE_AUTOGRAD_VARIABLE_H_
#define ENGINE_AUTOGRAD_VARIABLE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/tensor/tensor.h"

namespace engine {

// Accumulates the output gradient d_y into the parents' gradients (or into parameter gradients it captured).
// Receives the node's own gradient, so a closure never needs to hold a reference to its own node (no cycles).
using BackwardFn = std::function<void(const Tensor& d_y)>;

struct Node {
  Tensor value;
  Tensor grad;                 // allocated (zero-filled, shape of value) on first use
  bool grad_allocated = false;
  bool requires_grad = false;
  bool is_leaf = true;
  std::string name;
  std::vector<std::shared_ptr<Node>> parents;
  BackwardFn backward;  // empty for leaves and for results that need no gradient
};

class Variable {
 public:
  Variable() = default;
  explicit Variable(std::shared_ptr<Node> node) : node_(std::move(node)) {}

  const Tensor& value() const { return node_->value; }
  Tensor& value() { return node_->value; }
  const std::vector<int64_t>& shape() const { return node_->value.shape(); }
  // The gradient, allocated zero-filled with the value's shape on first call.
  Tensor& grad() const;
  bool has_grad() const { return node_->grad_allocated; }
  bool requires_grad() const { return node_ != nullptr && node_->requires_grad; }
  const std::string& name() const { return node_->name; }
  bool defined() const { return node_ != nullptr; }
  const std::shared_ptr<Node>& node() const { return node_; }

 private:
  std::shared_ptr<Node> node_;
};

// A value that takes no gradient (inputs, labels-as-tensors, constants).
Variable Constant(Tensor t, std::string name = "");
// A value that collects a gradient (parameters, and inputs in gradient checks).
Variable Leaf(Tensor t, std::string name);

// The result of an op. It requires a gradient when any parent does, or when `extra_requires_grad` is set (an op
// whose backward writes a gradient that lives outside the graph, e.g. a SparseParameter's). When it requires no
// gradient the closure and parents are dropped at once.
Variable MakeResult(Tensor value, std::vector<Variable> parents, BackwardFn backward, std::string name,
                    bool extra_requires_grad = false);

// While a NoGradGuard is alive (on this thread), ops record no graph: every result requires no gradient, and the
// backward closures with the tensors they saved are dropped at once. Use it for evaluation, where keeping the graph
// would hold every activation of the batch alive.
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};
bool GradEnabled();

// Backpropagates from a one-element `loss` seeded with d_loss = 1: runs every reachable closure once, in reverse
// topological order, accumulating into gradients. Afterwards the graph's closures and parent links are released
// (so a second Backward through the same graph is an error) and the gradients of intermediate results are freed;
// leaf gradients stay.
void Backward(const Variable& loss);
// The same from any output with an explicit seed gradient d_y (shape of y). Used by gradient checks.
void Backward(const Variable& y, const Tensor& d_y);

}  // namespace engine

#endif  // ENGINE_AUTOGRAD_VARIABLE_H_
