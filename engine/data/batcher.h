// Turns a Dataset into training or evaluation batches in the engine's layouts, with seeded per-epoch shuffling.
// The sample order of epoch e is a pure function of (seed, e), and any batch can be built directly from its
// position (epoch, batch index), so a run resumed mid-epoch sees exactly the batches it would have seen.
#ifndef ENGINE_DATA_BATCHER_H_
#define ENGINE_DATA_BATCHER_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "engine/data/augment.h"
#include "engine/data/dataset.h"
#include "engine/tensor/tensor.h"

namespace engine::data {

enum class BatchLayout {
  kFeatureMajor,  // x is [features, batch] with features = H*W: x[f, b] = pixel f of sample b (MLP input)
  kChannelMajor,  // x is [1, batch, H, W] (C outermost, the conv layout): x[0, b, h, w] = pixel (h, w) of sample b
};

struct BatcherOptions {
  int64_t batch_size = 128;
  uint64_t seed = 0;
  bool shuffle = true;     // false: samples in dataset order every epoch (evaluation)
  bool drop_last = false;  // true: the last, partial batch of an epoch is skipped
  BatchLayout layout = BatchLayout::kFeatureMajor;
  AugmentOptions augment;  // off by default
  // Data-parallel training: batches hold only shard `shard` of `shards` of each global batch of batch_size samples
  // (ShardRange); batches_per_epoch and the sample order stay those of the global batches.
  int shard = 0;
  int shards = 1;
};

// Samples [first, second) of a global batch of `global` samples that shard `shard` of `shards` holds: contiguous
// slices in shard order, the first global % shards shards one sample longer.
std::pair<int64_t, int64_t> ShardRange(int64_t global, int shard, int shards);

struct Batch {
  Tensor x;                      // see BatchLayout; batch = size()
  std::vector<int32_t> labels;   // labels[b] is the label of column / slice b of x
  std::vector<int64_t> indices;  // indices[b] is the dataset index of sample b
  int64_t epoch = 0;
  int64_t batch_index = 0;  // position of this batch within its epoch
  int64_t global_size = 0;  // samples of the whole global batch (= size() unless the batcher is sharded)

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
};

// Where the batcher stands: the next batch Next() returns.
struct BatchPosition {
  int64_t epoch = 0;
  int64_t batch_index = 0;
};

class Batcher {
 public:
  // `data` must outlive the batcher. Checks batch_size > 0, that an epoch has at least one batch and, when sharded,
  // that every shard of every batch (the last, partial one included) holds at least one sample.
  Batcher(const Dataset& data, const BatcherOptions& options);

  int64_t batches_per_epoch() const { return batches_per_epoch_; }
  const BatcherOptions& options() const { return options_; }

  // The permutation of [0, N) used in epoch `epoch` (identity without shuffling). Pure in (seed, epoch).
  std::vector<int64_t> EpochOrder(int64_t epoch) const;

  // Builds batch `batch_index` of epoch `epoch` into *out (reusing its storage when the shape matches).
  void GetBatch(int64_t epoch, int64_t batch_index, Batch* out);

  // Builds the batch at position() into *out and advances (rolling over into the next epoch).
  void Next(Batch* out);

  BatchPosition position() const { return position_; }
  // Resume: the next call to Next() returns batch `position.batch_index` of epoch `position.epoch`.
  void Seek(const BatchPosition& position);

 private:
  const Dataset& data_;
  BatcherOptions options_;
  int64_t batches_per_epoch_ = 0;
  BatchPosition position_;
  int64_t cached_epoch_ = -1;  // epoch whose order is in order_
  std::vector<int64_t> order_;
  std::vector<float> scratch_;  // one augmented image
};

}  // namespace engine::data

#endif  // ENGINE_DATA_BATCHER_H_
