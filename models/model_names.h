// The models the project knows, by name: the one list that flags, help and validation read (rigl/config), light
// enough for any target to link (no layers, no modules). models/networks.h adds each model's layer table and builder,
// and checks at first use that it covers exactly this list.
#ifndef MODELS_MODEL_NAMES_H_
#define MODELS_MODEL_NAMES_H_

#include <string>
#include <vector>

namespace models {

struct ModelName {
  const char* name;     // the --model value
  const char* summary;  // one line for --help
  bool trainable;       // buildable as real modules (the others: FLOPs tables and benchmarks only)
};

// In --help order.
const std::vector<ModelName>& ModelNames();
const ModelName* FindModelName(const std::string& name);  // null if unknown
// "mlp | lenet5 | ..." (only the trainable ones if trainable_only).
std::string ModelNameList(bool trainable_only);

}  // namespace models

#endif  // MODELS_MODEL_NAMES_H_
