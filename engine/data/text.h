// Byte-level text data for character language models (vocabulary 256: one symbol per byte, so any UTF-8 or binary
// file works). The text is cut into contiguous sequences of seq_len + 1 bytes that overlap by one byte (sequence i
// holds bytes [i*T, i*T + T], inputs its first T bytes, targets its last T), so every byte but the first of a split is
// predicted exactly once. Each split is an ordinary Dataset ([sequences, T + 1] floats holding byte values 0..255,
// labels unused and 0), so the seeded, resumable, shardable Batcher streams it unchanged: a feature-major batch is
// x [T + 1, B] with x[t, b] = byte t of sequence b.
#ifndef ENGINE_DATA_TEXT_H_
#define ENGINE_DATA_TEXT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "engine/data/dataset.h"

namespace engine::data {

inline constexpr int kByteVocabulary = 256;
// The largest text file accepted: it is held in memory as 4-byte floats (4 GiB at this limit).
inline constexpr int64_t kMaxTextBytes = int64_t{1} << 30;

struct TextOptions {
  int64_t seq_len = 512;  // T: time steps per sequence
  // With a single file: the last test_fraction of its bytes is the test split, the validation_fraction before that
  // the validation split, the rest (from the start) the training split. Contiguous, so no sequence straddles two.
  double validation_fraction = 0.05;
  double test_fraction = 0.05;
};

struct TextSplits {
  Dataset train, validation, test;
  int64_t train_bytes = 0, validation_bytes = 0, test_bytes = 0;  // bytes of each split (a tail < T is unused)
};

// `spec` is one path (split as TextOptions says) or three comma-separated paths "train,validation,test" used as they
// are (e.g. WikiText-103's wiki.train.raw, wiki.valid.raw, wiki.test.raw). Each file: it must exist, be a regular
// file, be non-empty and at most kMaxTextBytes, and every split must hold at least seq_len + 1 bytes; errors name
// `flag`, the path, the size and the rule.
TextSplits LoadTextSplits(const std::string& flag, const std::string& spec, const TextOptions& options);

// Cuts `bytes` into the sequences described above, as a Dataset named `name`. Needs bytes.size() >= seq_len + 1.
Dataset MakeTextDataset(const std::string& name, const std::vector<uint8_t>& bytes, int64_t seq_len);

// From a feature-major batch x [T + 1, B] of byte values: the inputs are rows 0..T-1 (what the model reads) and
// the targets, returned here, are rows 1..T flattened time-major: targets[t * B + b] = x[t + 1, b], the label of
// logit column t * B + b.
std::vector<int32_t> NextByteTargets(const Tensor& x);

}  // namespace engine::data

#endif  // ENGINE_DATA_TEXT_H_
