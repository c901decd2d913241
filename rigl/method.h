// The training methods the trainer knows, parsed once from --method into an enum, and the static facts about each
// (how it stores weights, where its topology update sits, how RIGL.md 4.3 charges its FLOPs). This table is the one
// list of method names: flags, help, validation, FLOPs reports and the registry of method objects
// (rigl/methods/registry.cc) all read it. What a method does during training lives in rigl/methods/.
#ifndef RIGL_METHOD_H_
#define RIGL_METHOD_H_

#include <string>
#include <vector>

#include "models/flops.h"
#include "rigl/drop_schedule.h"

namespace rigl {

enum class Method { kDense, kStatic, kSet, kSnfs, kSnip, kPruning, kSmallDense, kRigl, kRiglGlobal, kMest };

struct MethodInfo {
  Method id;
  const char* name;          // the --method value
  const char* summary;       // one line for --help
  bool sparse_storage;       // stores its masked layers as CSR (false: dense, small_dense)
  bool starts_full;          // sparse storage starts at every position and shrinks to the target (snip, pruning)
  bool drop_and_grow;        // topology updates at constant total nnz on the drop schedule (rigl, set, snfs, ...)
  UpdatePlacement placement; // where those updates sit relative to the optimizer step
  models::CostRule cost;     // RIGL.md 4.3 training-FLOPs rule
  bool densities_move = false;  // the per-layer densities change during training, so FLOPs use the current ones
};

// Every method, in --help order.
const std::vector<MethodInfo>& AllMethods();
const MethodInfo& Info(Method method);
const char* MethodName(Method method);
// "rigl" -> Method::kRigl; throws engine::Error "--method=<name>: unknown value; expected one of ..." otherwise.
Method ParseMethod(const std::string& name);
// "dense | static | ..." for help and error texts.
std::string MethodNameList();

}  // namespace rigl

#endif  // RIGL_METHOD_H_
