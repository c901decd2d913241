// --init_from and --export: the trainer's side of rigl/export (the file format and its validation live there).
// Part of the Trainer in trainer_internal.h.
#include <cstdio>
#include <string>

#include "rigl/export.h"
#include "rigl/trainer_internal.h"
#include "rigl/updater.h"

namespace rigl::internal {

void Trainer::InitFrom(const std::string& path) {
  const ImportStats s = ImportNetwork(path, &net_, ModelFlags(c_));  // validated whole; the model changes last
  imported_steps_ = s.step;
  for (LayerState& layer : layers_) InitHistory(layer.param->pattern(), &layer.history);
  MakeOptimizer();  // fresh slots for the imported patterns
  std::printf("init_from: %s: %lld tensors (%lld sparse weights from CSR parts, %lld sparsified by magnitude from "
              "dense tensors), %lld steps before\n",
              path.c_str(), static_cast<long long>(s.tensors), static_cast<long long>(s.csr),
              static_cast<long long>(s.sparsified), static_cast<long long>(s.step));
}

void Trainer::Export() {
  ExportOptions o;
  o.dense = c_.export_dense;
  o.step = imported_steps_ + method_->step();
  o.input = data_.train.normalization;
  const ExportStats s = ExportNetwork(net_, c_, o, c_.export_path);
  char line[1024];
  std::snprintf(line, sizeof(line), "export: %s (%lld tensors, %lld sparse weights as CSR parts, %.2f MiB, step %lld)",
                c_.export_path.c_str(), static_cast<long long>(s.tensors), static_cast<long long>(s.sparse_weights),
                static_cast<double>(s.bytes) / 1048576.0, static_cast<long long>(o.step));
  if (progress_ != nullptr) {
    progress_->Line(line);
  } else {
    std::printf("%s\n", line);
  }
}

}  // namespace rigl::internal
