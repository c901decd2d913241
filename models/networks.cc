// Network builders (see networks.h).
#include "models/networks.h"

#include <cmath>

#include "engine/base/check.h"
#include "engine/nn/activations.h"
#include "engine/nn/linear.h"
#include "engine/nn/sequential.h"
#include "models/architectures.h"

namespace models {
namespace {

int64_t Scaled(int64_t width, double multiplier) {
  return std::max<int64_t>(1, static_cast<int64_t>(std::llround(static_cast<double>(width) * multiplier)));
}

// Resolves (density, nnz) arguments for an nn layer from the plan.
struct Storage {
  double density = 1.0;
  int64_t nnz = -1;
};
Storage StorageFor(const NetworkOptions& o, const std::string& weight, int64_t total) {
  const auto it = o.plan.find(weight);
  if (it == o.plan.end() || !it->second.sparse) return {};
  ENGINE_CHECK(it->second.nnz >= 0 && it->second.nnz <= total, "network plan: ", weight, " nnz = ", it->second.nnz,
               "; expected 0 <= nnz <= ", total);
  // Any density below 1 selects sparse storage; the exact count is nnz.
  const double density = std::min(std::nextafter(1.0, 0.0),
                                  std::max(1e-12, static_cast<double>(it->second.nnz) / static_cast<double>(total)));
  return {density, it->second.nnz};
}

std::vector<int64_t> MlpWidths(const NetworkOptions& o) {
  std::vector<int64_t> widths = {o.in_channels * o.input_hw * o.input_hw};
  for (int64_t h : o.hidden) widths.push_back(Scaled(h, o.width_multiplier));
  widths.push_back(o.num_classes);
  return widths;
}

Network BuildMlp(const NetworkOptions& o) {
  Network net;
  auto seq = std::make_unique<engine::nn::Sequential>();
  const std::vector<int64_t> widths = MlpWidths(o);
  for (size_t l = 0; l + 1 < widths.size(); ++l) {
    const std::string name = "fc" + std::to_string(l + 1);
    const Storage s = StorageFor(o, name + ".weight", widths[l] * widths[l + 1]);
    seq->Emplace<engine::nn::Linear>(name, widths[l], widths[l + 1], s.density, s.nnz, o.seed);
    if (l + 2 < widths.size()) seq->Emplace<engine::nn::ReluModule>(name + ".relu");
  }
  net.module = std::move(seq);
  net.channel_major_input = false;
  return net;
}

}  // namespace

std::vector<LayerSpec> NetworkLayers(const NetworkOptions& o) {
  if (o.model == "mlp") return Mlp(MlpWidths(o));
  if (o.model == "lenet5") return LeNet5();
  if (o.model == "wrn22_2") return Wrn22x2Mnist();
  ENGINE_CHECK(false, "model '", o.model, "': unknown; expected mlp | lenet5 | wrn22_2");
  return {};
}

Network BuildNetwork(const NetworkOptions& o) {
  Network net;
  if (o.model == "mlp") {
    net = BuildMlp(o);
  } else {
    ENGINE_CHECK(false, "model '", o.model, "': not buildable yet; expected mlp");
  }
  net.layers = NetworkLayers(o);
  net.module->CollectParameters(&net.params);
  // Every plan key must name a weight of this model.
  for (const auto& [name, plan] : o.plan) {
    bool found = false;
    for (const LayerSpec& l : net.layers) found = found || l.name == name;
    ENGINE_CHECK(found, "network plan: '", name, "' is not a weight of model ", o.model);
  }
  return net;
}

}  // namespace models
