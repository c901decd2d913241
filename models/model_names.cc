// The list of models (see model_names.h).
#include "models/model_names.h"

namespace models {

const std::vector<ModelName>& ModelNames() {
  static const std::vector<ModelName> kNames = {
      {"mlp", "784-<widths>-10 on Fashion-MNIST", true},
      {"lenet5", "LeNet-5 on 28x28x1", true},
      {"wrn22_2", "WRN-22-2 on 28x28x1", true},
      {"gru_lm", "character-level GRU language model on byte text (the RigL paper's WikiText-103 model)", true},
      {"resnet50", "ResNet-50 at ImageNet shape (FLOPs tables and benchmarks only)", false},
      {"mobilenet_v1", "MobileNet v1 on 28x28x1 (stride-1 stem; ImageNet shape in //bench:flops)", true},
      {"mobilenet_v2", "MobileNet v2 on 28x28x1 (stride-1 stem; ImageNet shape in //bench:flops)", true},
  };
  return kNames;
}

const ModelName* FindModelName(const std::string& name) {
  for (const ModelName& m : ModelNames()) {
    if (name == m.name) return &m;
  }
  return nullptr;
}

std::string ModelNameList(bool trainable_only) {
  std::string list;
  for (const ModelName& m : ModelNames()) {
    if (!trainable_only || m.trainable) list += (list.empty() ? "" : " | ") + std::string(m.name);
  }
  return list;
}

}  // namespace models
