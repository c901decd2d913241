// Tests for //engine/data:batcher: shuffle determinism and permutation property, feature-major and channel-major
// layouts checked element by element, partial/dropped last batches, resume, and augmentation wiring.
#include "engine/data/batcher.h"

#include <algorithm>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/base/check.h"
#include "engine/data/augment.h"

namespace engine::data {
namespace {

using ::testing::HasSubstr;

template <typename Fn>
std::string ErrorOf(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// n samples of h x w; pixel f of sample i is 1000 * i + f, so every value names its sample and position.
Dataset MakeDataset(int64_t n, int64_t h, int64_t w) {
  Dataset d;
  d.name = "synthetic";
  d.height = h;
  d.width = w;
  d.num_classes = 7;
  d.images = Tensor({n, h * w});
  for (int64_t i = 0; i < n; ++i) {
    d.labels.push_back(static_cast<int32_t>((i * 3) % 7));
    for (int64_t f = 0; f < h * w; ++f) d.images[i * h * w + f] = static_cast<float>(1000 * i + f);
  }
  return d;
}

bool IsPermutation(std::vector<int64_t> order, int64_t n) {
  std::sort(order.begin(), order.end());
  for (int64_t i = 0; i < n; ++i) {
    if (order[i] != i) return false;
  }
  return static_cast<int64_t>(order.size()) == n;
}

TEST(Batcher, EpochOrderIsADeterministicPermutationThatChangesPerEpoch) {
  const Dataset d = MakeDataset(50, 2, 3);
  BatcherOptions o;
  o.batch_size = 8;
  o.seed = 42;
  Batcher a(d, o);
  Batcher b(d, o);
  std::vector<std::vector<int64_t>> orders;
  for (int64_t e = 0; e < 4; ++e) {
    orders.push_back(a.EpochOrder(e));
    EXPECT_TRUE(IsPermutation(orders.back(), 50)) << "epoch " << e;
  }
  // A second batcher asked in a different order gives the same permutations: order depends on (seed, epoch) only.
  for (int64_t e = 3; e >= 0; --e) EXPECT_EQ(b.EpochOrder(e), orders[e]) << "epoch " << e;
  for (int64_t e = 1; e < 4; ++e) EXPECT_NE(orders[e], orders[0]) << "epoch " << e;
  std::vector<int64_t> identity(50);
  for (int64_t i = 0; i < 50; ++i) identity[i] = i;
  EXPECT_NE(orders[0], identity);
  BatcherOptions other_seed = o;
  other_seed.seed = 43;
  EXPECT_NE(Batcher(d, other_seed).EpochOrder(0), orders[0]);
  BatcherOptions no_shuffle = o;
  no_shuffle.shuffle = false;
  EXPECT_EQ(Batcher(d, no_shuffle).EpochOrder(2), identity);
}

TEST(Batcher, BatchesWalkTheEpochOrderWithPartialOrDroppedLastBatch) {
  const Dataset d = MakeDataset(10, 1, 2);
  BatcherOptions o;
  o.batch_size = 4;
  o.seed = 5;
  Batcher keep(d, o);
  ASSERT_EQ(keep.batches_per_epoch(), 3);
  std::vector<int64_t> seen;
  Batch batch;
  const int64_t sizes[3] = {4, 4, 2};
  for (int64_t i = 0; i < 3; ++i) {
    keep.GetBatch(1, i, &batch);
    EXPECT_EQ(batch.size(), sizes[i]);
    EXPECT_EQ(batch.x.shape(), (std::vector<int64_t>{2, sizes[i]}));
    EXPECT_EQ(batch.epoch, 1);
    EXPECT_EQ(batch.batch_index, i);
    seen.insert(seen.end(), batch.indices.begin(), batch.indices.end());
  }
  EXPECT_EQ(seen, keep.EpochOrder(1));
  o.drop_last = true;
  Batcher drop(d, o);
  EXPECT_EQ(drop.batches_per_epoch(), 2);
  EXPECT_THAT(ErrorOf([&] { drop.GetBatch(0, 2, &batch); }), HasSubstr("0 <= batch < 2"));
}

TEST(Batcher, FeatureMajorBatchIsTheTransposeOfTheSamples) {
  const Dataset d = MakeDataset(13, 3, 4);
  BatcherOptions o;
  o.batch_size = 5;
  o.seed = 9;
  Batcher batcher(d, o);
  Batch batch;
  for (int64_t i = 0; i < batcher.batches_per_epoch(); ++i) {
    batcher.GetBatch(0, i, &batch);
    const int64_t size = batch.size();
    ASSERT_EQ(batch.x.shape(), (std::vector<int64_t>{12, size}));
    for (int64_t b = 0; b < size; ++b) {
      const int64_t sample = batch.indices[b];
      EXPECT_EQ(batch.labels[b], (sample * 3) % 7);
      for (int64_t f = 0; f < 12; ++f) {
        // x[f, b] in row-major [features, batch]; the value names (sample, f) independently of the batcher.
        ASSERT_EQ(batch.x[f * size + b], static_cast<float>(1000 * sample + f)) << "batch " << i << " (f, b) = (" << f
                                                                                 << ", " << b << ")";
      }
    }
  }
}

TEST(Batcher, ChannelMajorBatchIsOneChannelBatchHeightWidth) {
  const Dataset d = MakeDataset(7, 3, 4);
  BatcherOptions o;
  o.batch_size = 4;
  o.seed = 9;
  o.layout = BatchLayout::kChannelMajor;
  Batcher batcher(d, o);
  Batch batch;
  batcher.GetBatch(2, 1, &batch);  // the partial batch: 3 samples
  ASSERT_EQ(batch.x.shape(), (std::vector<int64_t>{1, 3, 3, 4}));
  for (int64_t b = 0; b < 3; ++b) {
    for (int64_t y = 0; y < 3; ++y) {
      for (int64_t x = 0; x < 4; ++x) {
        ASSERT_EQ(batch.x[(b * 3 + y) * 4 + x], static_cast<float>(1000 * batch.indices[b] + y * 4 + x))
            << "(b, y, x) = (" << b << ", " << y << ", " << x << ")";
      }
    }
  }
  // Same indices and labels as the feature-major batcher with the same seed.
  o.layout = BatchLayout::kFeatureMajor;
  Batcher fm(d, o);
  Batch fm_batch;
  fm.GetBatch(2, 1, &fm_batch);
  EXPECT_EQ(fm_batch.indices, batch.indices);
  EXPECT_EQ(fm_batch.labels, batch.labels);
}

TEST(Batcher, ResumeMidEpochReproducesTheSameBatches) {
  const Dataset d = MakeDataset(23, 2, 2);
  BatcherOptions o;
  o.batch_size = 5;  // 5 batches per epoch, the last one partial
  o.seed = 77;
  o.augment.crop_padding = 1;
  o.augment.horizontal_flip = true;
  Batcher straight(d, o);
  std::vector<Batch> batches(12);
  for (Batch& b : batches) straight.Next(&b);
  EXPECT_EQ(straight.position().epoch, 2);
  EXPECT_EQ(straight.position().batch_index, 2);
  EXPECT_EQ(batches[5].epoch, 1);
  EXPECT_EQ(batches[5].batch_index, 0);

  Batcher resumed(d, o);
  resumed.Seek({1, 3});  // batch 8 of the straight run
  Batch b;
  for (int64_t k = 8; k < 12; ++k) {
    resumed.Next(&b);
    EXPECT_EQ(b.epoch, batches[k].epoch);
    EXPECT_EQ(b.batch_index, batches[k].batch_index);
    EXPECT_EQ(b.indices, batches[k].indices) << "batch " << k;
    ASSERT_EQ(b.x.shape(), batches[k].x.shape());
    EXPECT_TRUE(std::equal(b.x.data(), b.x.data() + b.x.size(), batches[k].x.data())) << "batch " << k;
  }
  EXPECT_THAT(ErrorOf([&] { resumed.Seek({0, 5}); }), HasSubstr("0 <= batch < 5"));
}

TEST(Batcher, AugmentedSamplesDependOnSampleNotOnBatching) {
  const Dataset d = MakeDataset(11, 4, 5);
  BatcherOptions o;
  o.seed = 3;
  o.augment.crop_padding = 2;
  o.augment.horizontal_flip = true;
  int64_t changed = 0;
  for (int64_t batch_size : {3, 11}) {
    o.batch_size = batch_size;
    Batcher batcher(d, o);
    Batch batch;
    for (int64_t i = 0; i < batcher.batches_per_epoch(); ++i) {
      batcher.GetBatch(4, i, &batch);
      for (int64_t b = 0; b < batch.size(); ++b) {
        const int64_t sample = batch.indices[b];
        std::vector<float> expected(20);
        ApplyAugment(d.image(sample), 4, 5, 2, DrawAugment(o.augment, 3, 4, sample), d.background(), expected.data());
        for (int64_t f = 0; f < 20; ++f) {
          ASSERT_EQ(batch.x[f * batch.size() + b], expected[f]) << "batch_size " << batch_size << " sample " << sample;
          changed += batch_size == 11 && expected[f] != d.image(sample)[f];
        }
      }
    }
  }
  EXPECT_GT(changed, 0);  // augmentation did something
}

TEST(Batcher, BadOptionsAreErrors) {
  const Dataset d = MakeDataset(3, 2, 2);
  BatcherOptions o;
  o.batch_size = 0;
  EXPECT_THAT(ErrorOf([&] { Batcher(d, o); }), HasSubstr("batch_size = 0"));
  o.batch_size = 4;
  o.drop_last = true;
  EXPECT_THAT(ErrorOf([&] { Batcher(d, o); }), HasSubstr("no batch"));
  o.drop_last = false;
  EXPECT_EQ(Batcher(d, o).batches_per_epoch(), 1);
}

}  // namespace
}  // namespace engine::data

namespace engine::data {
namespace {

// Data-parallel shards: for every rank count, the shards of each global batch, in shard order, are exactly the
// unsharded batch (same samples, same columns of x, same labels), the sizes differ by at most one, the first
// global % shards shards are the longer ones, and every shard knows the global batch size.
TEST(Batcher, ShardsPartitionEachGlobalBatchInOrder) {
  const Dataset d = MakeDataset(23, 2, 3);  // batches of 8: 8, 8, 7 samples
  BatcherOptions whole_options;
  whole_options.batch_size = 8;
  whole_options.seed = 5;
  Batcher whole(d, whole_options);
  for (int shards : {1, 2, 3, 7}) {
    for (int64_t batch = 0; batch < whole.batches_per_epoch(); ++batch) {
      Batch all;
      whole.GetBatch(1, batch, &all);
      std::vector<int64_t> indices;
      std::vector<float> x;
      for (int s = 0; s < shards; ++s) {
        BatcherOptions o = whole_options;
        o.shard = s;
        o.shards = shards;
        Batcher part(d, o);
        EXPECT_EQ(part.batches_per_epoch(), whole.batches_per_epoch());
        Batch b;
        part.GetBatch(1, batch, &b);
        EXPECT_EQ(b.global_size, all.size());
        const int64_t base = all.size() / shards;
        EXPECT_EQ(b.size(), base + (s < all.size() % shards ? 1 : 0)) << "shard " << s << " of " << shards;
        EXPECT_EQ(ShardRange(all.size(), s, shards).second - ShardRange(all.size(), s, shards).first, b.size());
        indices.insert(indices.end(), b.indices.begin(), b.indices.end());
        for (int64_t f = 0; f < d.features(); ++f) {
          for (int64_t j = 0; j < b.size(); ++j) x.push_back(b.x.data()[f * b.size() + j]);
        }
      }
      EXPECT_EQ(indices, all.indices) << shards << " shards, batch " << batch;
      // Feature-major shards: reassemble column by column and compare with the whole batch's columns.
      int64_t column = 0, at = 0;
      for (int s = 0; s < shards; ++s) {
        const auto [first, last] = ShardRange(all.size(), s, shards);
        for (int64_t f = 0; f < d.features(); ++f) {
          for (int64_t j = first; j < last; ++j) {
            ASSERT_EQ(x[at++], all.x.data()[f * all.size() + j]) << "feature " << f << " sample " << j;
          }
        }
        column += last - first;
      }
      EXPECT_EQ(column, all.size());
    }
  }
}

TEST(Batcher, RefusesShardsThatWouldBeEmpty) {
  const Dataset d = MakeDataset(17, 1, 2);  // batches of 8: the last holds 1 sample
  BatcherOptions o;
  o.batch_size = 8;
  o.shards = 2;
  try {
    Batcher b(d, o);
    FAIL() << "a last batch of 1 sample split across 2 shards was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("leave a batch of 1 samples, fewer than the 2 shards"), std::string::npos)
        << e.what();
  }
  o.drop_last = true;  // the partial batch is skipped: every batch holds 8
  EXPECT_NO_THROW(Batcher(d, o));
  o.shard = 2;
  EXPECT_THROW(Batcher(d, o), Error);  // shard outside [0, shards)
}

}  // namespace
}  // namespace engine::data
