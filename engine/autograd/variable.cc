// Autograd graph bookkeeping: leaves, op results, and the reverse topological sweep of Backward().
#include "engine/autograd/variable.h"

#include <algorithm>
#include <unordered_set>
#include <utility>

#include "engine/base/check.h"

namespace engine {

Tensor& Variable::grad() const {
  ENGINE_CHECK(node_ != nullptr, "Variable::grad: undefined variable; expected one made by Constant, Leaf or an op");
  if (!node_->grad_allocated) {
    node_->grad = Tensor(node_->value.shape());
    node_->grad_allocated = true;
  }
  return node_->grad;
}

Variable Constant(Tensor t, std::string name) {
  auto node = std::make_shared<Node>();
  node->value = std::move(t);
  node->name = std::move(name);
  return Variable(std::move(node));
}

Variable Leaf(Tensor t, std::string name) {
  auto node = std::make_shared<Node>();
  node->value = std::move(t);
  node->name = std::move(name);
  node->requires_grad = true;
  return Variable(std::move(node));
}

namespace {
thread_local bool g_grad_enabled = true;
}  // namespace

NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }
bool GradEnabled() { return g_grad_enabled; }

Variable MakeResult(Tensor value, std::vector<Variable> parents, BackwardFn backward, std::string name,
                    bool extra_requires_grad) {
  auto node = std::make_shared<Node>();
  node->value = std::move(value);
  node->name = std::move(name);
  node->is_leaf = false;
  bool requires = extra_requires_grad;
  for (const Variable& p : parents) {
    ENGINE_CHECK(p.defined(), node->name, ": an undefined variable was given as input; expected a defined one");
    requires = requires || p.requires_grad();
  }
  requires = requires && g_grad_enabled;
  node->requires_grad = requires;
  if (requires) {
    node->backward = std::move(backward);
    for (const Variable& p : parents) node->parents.push_back(p.node());
  }
  return Variable(std::move(node));
}

namespace {

// Nodes reachable from `root` through requires_grad edges, parents before children (iterative DFS, so deep graphs
// cannot overflow the stack).
std::vector<Node*> TopologicalOrder(Node* root) {
  std::vector<Node*> order;
  std::unordered_set<Node*> visited;
  std::vector<std::pair<Node*, size_t>> stack;  // (node, index of the next parent to visit)
  stack.emplace_back(root, 0);
  visited.insert(root);
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->parents.size()) {
      Node* parent = node->parents[next++].get();
      if (parent->requires_grad && visited.insert(parent).second) stack.emplace_back(parent, 0);
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  return order;
}

}  // namespace

void Backward(const Variable& y, const Tensor& d_y) {
  ENGINE_CHECK(y.defined(), "Backward: undefined output; expected a variable made by an op");
  ENGINE_CHECK(y.requires_grad(), "Backward(", y.name(), "): the output requires no gradient; expected a result ",
               "depending on at least one Leaf or parameter");
  ENGINE_CHECK(d_y.shape() == y.shape(), "Backward(", y.name(), "): seed gradient has shape ", d_y.ShapeString(),
               "; expected the output's shape ", y.value().ShapeString());
  Node* root = y.node().get();
  ENGINE_CHECK(root->is_leaf || root->backward, "Backward(", y.name(), "): this graph was already backpropagated ",
               "(its closures were freed); expected a fresh forward pass");
  const std::vector<Node*> order = TopologicalOrder(root);
  Tensor& seed = y.grad();
  for (int64_t i = 0; i < seed.size(); ++i) seed[i] += d_y[i];
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = *it;
    if (node->backward && node->grad_allocated) node->backward(node->grad);
  }
  // Free the graph: closures (and the tensors they saved), parent links and intermediate gradients.
  for (Node* node : order) {
    if (node->is_leaf) continue;
    node->backward = nullptr;
    node->parents.clear();
    node->grad = Tensor();
    node->grad_allocated = false;
  }
}

void Backward(const Variable& loss) {
  ENGINE_CHECK(loss.defined() && loss.value().size() == 1, "Backward: loss has shape ",
               loss.defined() ? loss.value().ShapeString() : std::string("<undefined>"),
               "; expected exactly one element (reduce to a scalar first)");
  Tensor seed(loss.shape());
  seed[0] = 1.0f;
  Backward(loss, seed);
}

}  // namespace engine
