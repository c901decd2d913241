// A network as a safetensors file that PyTorch loads, and back (the trainer's --export and --init_from;
// docs/EXPORT.md is the user's description, tools/torch_eval.py the PyTorch side).
//
// Tensors, named as the engine names them, which is PyTorch's (fc1.weight, layer1.0.bn1.running_mean):
//   - every dense parameter and buffer: F32 in PyTorch's shape (Linear [out, in], Conv2d [K, C, R, S], biases and
//     BatchNorm vectors [C]);
//   - every sparse weight, as the three parts of a torch.sparse_csr_tensor, without densifying it:
//       <name>.crow_indices I64 [rows + 1], <name>.col_indices I64 [nnz], <name>.values F32 [nnz],
//     with PyTorch's dense shape in the metadata key <name>.shape. A conv weight [K, C, R, S] is the CSR matrix of
//     K rows and C*R*S columns: row k, column c*R*S + r*S + s (the row-major reshape of the 4-D weight).
//     With ExportOptions::dense, sparse weights are written as dense tensors instead.
// Metadata (all strings): format, engine_version, model, width (mlp), method, sparsity, distribution, seed, step,
// input_mean and input_std (the preprocessing: (x / 255 - mean) / std), conv_csr_layout, and per weight
// <name>.density.
//
// Import validates the whole file before changing anything: every parameter and buffer of the model must be there
// with its shape (messages name the tensor, the shape found and the shape expected), nothing else may be (PyTorch's
// *.num_batches_tracked excepted), values must be finite and CSR parts must form a valid matrix (index ranges,
// sorted unique columns, monotone offsets). A weight the model stores sparse takes the pattern of CSR parts as it
// is (their nnz must equal the weight's stored nnz); from a dense tensor it keeps its stored nnz largest |w|
// (rigl/updater's LowestMagnitude rule, ties by position). That count is the plan's: the target nnz for static,
// SET, SNFS and RigL, every position for SNIP and gradual pruning, whose own rules then prune during training.
// A weight the model stores dense takes a dense tensor, or CSR parts densified (zeros elsewhere).
// Patterns are installed only through engine::TopologyEdit::Replace.
#ifndef RIGL_EXPORT_H_
#define RIGL_EXPORT_H_

#include <cstdint>
#include <string>

#include "engine/data/dataset.h"
#include "models/networks.h"
#include "rigl/config.h"

namespace rigl {

// The metadata key "format": the version of this layout.
inline constexpr char kExportFormat[] = "sparse_engine.safetensors/1";

struct ExportOptions {
  bool dense = false;                  // write sparse weights as dense tensors (--export_dense)
  int64_t step = 0;                    // optimizer steps behind the weights (metadata "step")
  engine::data::Normalization input;   // the input preprocessing the weights were trained with
};

struct ExportStats {
  int64_t tensors = 0;         // in the file
  int64_t sparse_weights = 0;  // written as CSR parts
  uint64_t bytes = 0;          // of the file
};

// Writes every parameter and buffer of `net` (built from `config`) to `path`, atomically (path.tmp, fsync, rename).
// `net` is not changed (the Module interface that lists buffers is not const).
ExportStats ExportNetwork(models::Network& net, const TrainConfig& config, const ExportOptions& options,
                          const std::string& path);

struct ImportStats {
  int64_t step = 0;          // the file's metadata "step" (0 when absent, e.g. a file written from PyTorch)
  int64_t tensors = 0;       // parameters and buffers loaded
  int64_t csr = 0;           // sparse weights whose pattern came from CSR parts
  int64_t sparsified = 0;    // sparse weights chosen by magnitude from dense tensors
};

// Loads every parameter and buffer of `net` from `path` (see the file comment). On any error `net` is untouched and
// engine::Error names --init_from=path, the tensor, what was found and what was expected; `model` (e.g.
// "--model=mlp --width=300,100") says in messages which model the file was checked against.
ImportStats ImportNetwork(const std::string& path, models::Network* net, const std::string& model);

// "--model=mlp --width=300,100" (the width only for mlp), for ImportNetwork's messages.
std::string ModelFlags(const TrainConfig& config);

}  // namespace rigl

#endif  // RIGL_EXPORT_H_
