// Seeded shuffling and layout conversion for batches.
#include "engine/data/batcher.h"

#include <algorithm>
#include <numeric>

#include "engine/base/check.h"
#include "engine/base/rng.h"

namespace engine::data {

Batcher::Batcher(const Dataset& data, const BatcherOptions& options) : data_(data), options_(options) {
  const int64_t n = data.num_samples();
  ENGINE_CHECK(options.batch_size > 0, "Batcher(", data.name, "): batch_size = ", options.batch_size,
               "; expected > 0");
  ENGINE_CHECK(options.augment.crop_padding >= 0, "Batcher(", data.name, "): augment.crop_padding = ",
               options.augment.crop_padding, "; expected >= 0");
  ENGINE_CHECK(data.images.size() == n * data.features(), "Batcher(", data.name, "): images hold ",
               data.images.size(), " floats; expected num_samples * H * W = ", n * data.features());
  batches_per_epoch_ = options.drop_last ? n / options.batch_size : (n + options.batch_size - 1) / options.batch_size;
  ENGINE_CHECK(batches_per_epoch_ > 0, "Batcher(", data.name, "): ", n, " samples with batch_size ",
               options.batch_size, (options.drop_last ? " and drop_last" : ""),
               " give no batch; expected at least one batch per epoch");
  ENGINE_CHECK(options.shards >= 1 && options.shard >= 0 && options.shard < options.shards, "Batcher(", data.name,
               "): shard ", options.shard, " of ", options.shards, "; expected 0 <= shard < shards");
  const int64_t last = n - (batches_per_epoch_ - 1) * options.batch_size;
  const int64_t smallest = std::min(options.batch_size, last);
  ENGINE_CHECK(smallest >= options.shards, "Batcher(", data.name, "): ", n, " samples in batches of ",
               options.batch_size, " leave a batch of ", smallest, " samples, fewer than the ", options.shards,
               " shards (ranks) it is split across; expected every batch to hold at least one sample per shard. "
               "Choose a --batch_size (or --train_limit) whose batches, the last one included, have at least ",
               options.shards, " samples");
}

std::pair<int64_t, int64_t> ShardRange(int64_t global, int shard, int shards) {
  const int64_t base = global / shards, extra = global % shards;
  const int64_t begin = shard * base + std::min<int64_t>(shard, extra);
  return {begin, begin + base + (shard < extra ? 1 : 0)};
}

std::vector<int64_t> Batcher::EpochOrder(int64_t epoch) const {
  ENGINE_CHECK(epoch >= 0, "Batcher(", data_.name, ")::EpochOrder: epoch = ", epoch, "; expected >= 0");
  std::vector<int64_t> order(static_cast<size_t>(data_.num_samples()));
  std::iota(order.begin(), order.end(), int64_t{0});
  if (!options_.shuffle) return order;
  // Fisher-Yates driven by a stream that depends only on (seed, epoch).
  Rng rng = Rng::Stream(options_.seed, static_cast<uint64_t>(epoch));
  for (int64_t i = static_cast<int64_t>(order.size()) - 1; i > 0; --i) {
    const int64_t j = static_cast<int64_t>(rng.UniformInt(static_cast<uint64_t>(i + 1)));
    std::swap(order[i], order[j]);
  }
  return order;
}

void Batcher::GetBatch(int64_t epoch, int64_t batch_index, Batch* out) {
  ENGINE_CHECK(epoch >= 0 && batch_index >= 0 && batch_index < batches_per_epoch_, "Batcher(", data_.name,
               ")::GetBatch: epoch ", epoch, ", batch ", batch_index, "; expected epoch >= 0 and 0 <= batch < ",
               batches_per_epoch_);
  if (cached_epoch_ != epoch) {
    order_ = EpochOrder(epoch);
    cached_epoch_ = epoch;
  }
  const int64_t n = data_.num_samples();
  const int64_t global_begin = batch_index * options_.batch_size;
  const int64_t global_size = std::min(options_.batch_size, n - global_begin);
  const auto [shard_begin, shard_end] = ShardRange(global_size, options_.shard, options_.shards);
  const int64_t begin = global_begin + shard_begin;
  const int64_t size = shard_end - shard_begin;
  const int64_t height = data_.height, width = data_.width, features = data_.features();

  out->epoch = epoch;
  out->batch_index = batch_index;
  out->global_size = global_size;
  out->indices.assign(order_.begin() + begin, order_.begin() + begin + size);
  out->labels.resize(static_cast<size_t>(size));
  const std::vector<int64_t> shape = options_.layout == BatchLayout::kFeatureMajor
                                         ? std::vector<int64_t>{features, size}
                                         : std::vector<int64_t>{1, size, height, width};
  if (out->x.shape() != shape) out->x = Tensor(shape);

  const bool augment = options_.augment.enabled();
  scratch_.resize(static_cast<size_t>(features));
  float* x = out->x.data();
  for (int64_t b = 0; b < size; ++b) {
    const int64_t sample = out->indices[b];
    out->labels[b] = data_.labels[sample];
    const float* pixels = data_.image(sample);
    if (augment) {
      const AugmentDraw draw = DrawAugment(options_.augment, options_.seed, epoch, sample);
      ApplyAugment(pixels, height, width, options_.augment.crop_padding, draw, data_.background(), scratch_.data());
      pixels = scratch_.data();
    }
    if (options_.layout == BatchLayout::kFeatureMajor) {
      for (int64_t f = 0; f < features; ++f) x[f * size + b] = pixels[f];  // column b of [features, batch]
    } else {
      std::copy(pixels, pixels + features, x + b * features);  // slice [0, b, :, :]
    }
  }
}

void Batcher::Next(Batch* out) {
  GetBatch(position_.epoch, position_.batch_index, out);
  if (++position_.batch_index == batches_per_epoch_) {
    position_.batch_index = 0;
    ++position_.epoch;
  }
}

void Batcher::Seek(const BatchPosition& position) {
  ENGINE_CHECK(position.epoch >= 0 && position.batch_index >= 0 && position.batch_index < batches_per_epoch_,
               "Batcher(", data_.name, ")::Seek: epoch ", position.epoch, ", batch ", position.batch_index,
               "; expected epoch >= 0 and 0 <= batch < ", batches_per_epoch_);
  position_ = position;
}

}  // namespace engine::data
