// Data-parallel training over the ranks of an engine::dist::Communicator. Every rank holds the whole model and the
// whole data set, draws the same global batch (the Batcher's order is a pure function of seed and epoch) and trains
// on its shard of it; after the backward, Reduce makes every rank's gradients those of the global batch, so every
// rank takes the same optimizer step and stays an exact replica.
//
// What crosses the wire per step: one AllreduceSum of a buffer packing, in parameter order, every sparse layer's
// stored gradient values (nnz floats: the patterns are identical on every rank, so no index is ever sent), every
// dense parameter's gradient, and the module's buffers (BatchNorm's running statistics). On a topology update: the
// dense-gradient tiles RigL's grow step (and SNFS's EMA) reads, each summed across ranks as it is produced, so
// memory stays one tile; drop needs nothing (the weights are identical), SET's random grow nothing (one seeded
// stream, the same on every rank). Then CheckReplicasAgree compares a hash of every layer.
#ifndef RIGL_DATA_PARALLEL_H_
#define RIGL_DATA_PARALLEL_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/autograd/parameter.h"
#include "engine/dist/communicator.h"
#include "engine/tensor/tensor.h"

namespace rigl {

class DataParallel {
 public:
  // buffers: the module's named non-parameter state (engine::nn::Module::CollectBuffers), averaged like gradients.
  DataParallel(engine::dist::Communicator* comm, engine::ParameterList params,
               std::vector<std::pair<std::string, engine::Tensor*>> buffers);

  engine::dist::Communicator& comm() { return *comm_; }
  int ranks() const { return comm_->size(); }

  // After this rank's backward over its shard, which holds `share` = shard samples / global batch samples: every
  // rank's gradients (and buffers) become sum over ranks of share x local, the global batch's mean-loss gradient,
  // bit-identical on every rank. Sparse gradients are exchanged unless the layer skipped them (skip_pattern_grad),
  // dense ones when `dense_grads` (the iteration takes an optimizer step). Every sparse layer whose backward offered
  // dense_grad_rows gets it wrapped so each tile is scaled and summed across ranks: every rank must then request the
  // same tiles in the same order, which the topology code does because its inputs are identical.
  void Reduce(double share, bool dense_grads);

  // Compares, across ranks, a hash of every sparse layer's pattern and values and of every dense parameter. Throws
  // engine::Error naming the first parameter that differs, the ranks and `when` (e.g. "after the topology update at
  // step 300"), so a replica that drifted stops the run instead of training a different model.
  void CheckReplicasAgree(const std::string& when);

  // Every rank's `values`, in rank order (the per-iteration loss and accuracy counts, the evaluation sums).
  std::vector<double> Gather(const std::vector<double>& values);

  // Throws engine::Error naming `what` and the rank when this rank's `fingerprint` (e.g. a hash of the training
  // data) differs from rank 0's.
  void CheckSame(const std::string& what, uint64_t fingerprint);

  // Floats of the last Reduce's exchange (its payload), and the bytes this rank sent over the whole run.
  int64_t last_exchange_floats() const { return last_floats_; }
  int64_t bytes_sent() const { return comm_->bytes_sent(); }
  // Of those, the bytes sent for dense-gradient tiles (topology updates).
  int64_t tile_bytes_sent() const { return tile_bytes_; }
  // Seconds in Reduce's exchanges (inside the training steps; the first includes waiting for the slowest rank to
  // start); seconds in the tiles' exchanges (inside the topology updates).
  double exchange_seconds() const { return exchange_seconds_; }
  double tile_seconds() const { return tile_seconds_; }
  // CheckReplicasAgree calls that passed.
  int64_t replica_checks() const { return checks_; }

 private:
  engine::dist::Communicator* comm_;
  engine::ParameterList params_;
  std::vector<std::pair<std::string, engine::Tensor*>> buffers_;
  std::vector<float> pack_;
  int64_t last_floats_ = 0;
  int64_t tile_bytes_ = 0;
  double exchange_seconds_ = 0, tile_seconds_ = 0;
  int64_t checks_ = 0;
};

}  // namespace rigl

#endif  // RIGL_DATA_PARALLEL_H_
