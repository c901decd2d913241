// Byte-level text splits: the sequences and targets by hand, the 90/5/5 split's boundaries, the three-file form,
// the Batcher's order over a text data set (seeded, resumable by position), and every refused input with its message.
#include "engine/data/text.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "engine/base/check.h"
#include "engine/data/batcher.h"

namespace engine::data {
namespace {

std::string WriteFile(const std::string& name, const std::string& content) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(TextTest, SequencesOverlapByOneByteAndTargetsAreTheNextBytes) {
  const std::vector<uint8_t> bytes = {'a', 'b', 'c', 'd', 'e', 'f', 'g', 0xC3, 0xA9};  // 9 bytes, UTF-8 e-acute last
  const Dataset d = MakeTextDataset("t", bytes, 3);
  ASSERT_EQ(d.num_samples(), 2);  // (9 - 1) / 3: [abcd], [defg]; the tail (0xC3 0xA9) is left over
  ASSERT_EQ(d.features(), 4);
  EXPECT_EQ(d.image(0)[0], 'a');
  EXPECT_EQ(d.image(0)[3], 'd');
  EXPECT_EQ(d.image(1)[0], 'd');
  EXPECT_EQ(d.image(1)[3], 'g');
  // A feature-major batch of both sequences: x [4, 2]; the targets are rows 1..3, time-major.
  Tensor x({4, 2});
  for (int t = 0; t < 4; ++t) {
    x[t * 2 + 0] = d.image(0)[t];
    x[t * 2 + 1] = d.image(1)[t];
  }
  const std::vector<int32_t> targets = NextByteTargets(x);
  EXPECT_EQ(targets, (std::vector<int32_t>{'b', 'e', 'c', 'f', 'd', 'g'}));
  const Dataset high = MakeTextDataset("t", {0xC3, 0xA9, 0xFF}, 2);
  EXPECT_EQ(high.image(0)[2], 255.0f);
}

TEST(TextTest, OneFileIsSplitContiguously) {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += static_cast<char>('a' + i % 26);
  const std::string path = WriteFile("split.txt", text);
  TextOptions o;
  o.seq_len = 10;
  const TextSplits s = LoadTextSplits("--text_file", path, o);
  EXPECT_EQ(s.test_bytes, 50);
  EXPECT_EQ(s.validation_bytes, 50);
  EXPECT_EQ(s.train_bytes, 900);
  EXPECT_EQ(s.train.num_samples(), 89);  // (900 - 1) / 10
  EXPECT_EQ(s.validation.num_samples(), 4);
  EXPECT_EQ(s.test.num_samples(), 4);
  EXPECT_EQ(s.validation.image(0)[0], text[900]);
  EXPECT_EQ(s.test.image(0)[0], text[950]);
  EXPECT_EQ(s.test.image(3)[10], text[990]);
}

TEST(TextTest, ThreeFilesAreUsedAsGiven) {
  const std::string a = WriteFile("train.raw", std::string(100, 'x'));
  const std::string b = WriteFile("valid.raw", "0123456789A");
  const std::string c = WriteFile("test.raw", "abcdefghijkl");
  TextOptions o;
  o.seq_len = 10;
  const TextSplits s = LoadTextSplits("--text_file", a + "," + b + "," + c, o);
  EXPECT_EQ(s.train.num_samples(), 9);
  EXPECT_EQ(s.validation.num_samples(), 1);
  EXPECT_EQ(s.validation.image(0)[10], 'A');
  EXPECT_EQ(s.test.num_samples(), 1);
  EXPECT_EQ(s.test_bytes, 12);
}

TEST(TextTest, TheBatcherStreamsSequencesInASeededResumableOrder) {
  std::vector<uint8_t> bytes(2001);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7);
  const Dataset d = MakeTextDataset("t", bytes, 20);  // 100 sequences
  BatcherOptions bo;
  bo.batch_size = 8;
  bo.seed = 5;
  Batcher a(d, bo), b(d, bo);
  Batch first, resumed;
  for (int i = 0; i < 30; ++i) a.Next(&first);  // epoch 2, batch 4 (13 batches an epoch)
  b.Seek({2, 3});
  b.Next(&resumed);
  EXPECT_EQ(first.indices, resumed.indices);
  ASSERT_EQ(first.x.dim(0), 21);
  for (int64_t k = 0; k < first.size(); ++k) {  // column k is sequence indices[k], whole and in order
    for (int64_t t = 0; t <= 20; ++t) {
      EXPECT_EQ(first.x[t * first.size() + k], bytes[static_cast<size_t>(first.indices[k] * 20 + t)]);
    }
  }
  EXPECT_NE(a.EpochOrder(0), a.EpochOrder(1));
}

TEST(TextTest, BadInputsAreRefusedByName) {
  TextOptions o;
  o.seq_len = 64;
  EXPECT_NE(ErrorOf([&] { LoadTextSplits("--text_file", "/nonexistent/kjv.txt", o); }).find(
                "--text_file=/nonexistent/kjv.txt: no such file"),
            std::string::npos);
  const std::string empty = WriteFile("empty.txt", "");
  EXPECT_NE(ErrorOf([&] { LoadTextSplits("--text_file", empty, o); }).find("the file is empty"), std::string::npos);
  const std::string dir = std::string(std::getenv("TEST_TMPDIR") != nullptr ? std::getenv("TEST_TMPDIR") : "/tmp");
  EXPECT_NE(ErrorOf([&] { LoadTextSplits("--text_file", dir, o); }).find("not a regular file"), std::string::npos);
  // 1000 bytes: the 5% splits hold 50 bytes, fewer than one sequence of 65.
  const std::string small = WriteFile("small.txt", std::string(1000, 'q'));
  const std::string short_split = ErrorOf([&] { LoadTextSplits("--text_file", small, o); });
  EXPECT_NE(short_split.find("the validation split holds 50 bytes"), std::string::npos) << short_split;
  EXPECT_NE(short_split.find("at least --seq_len + 1 = 65"), std::string::npos) << short_split;
  EXPECT_NE(ErrorOf([&] { LoadTextSplits("--text_file", small + "," + small, o); }).find("2 comma-separated paths"),
            std::string::npos);
  EXPECT_NE(ErrorOf([&] { LoadTextSplits("--text_file", small + ",," + small, o); }).find("an empty path"),
            std::string::npos);
  o.seq_len = 0;
  EXPECT_NE(ErrorOf([&] { LoadTextSplits("--text_file", small, o); }).find("--seq_len=0"), std::string::npos);
  Tensor not_bytes({2, 1});
  not_bytes[1] = 300;
  EXPECT_NE(ErrorOf([&] { NextByteTargets(not_bytes); }).find("expected a byte value"), std::string::npos);
}

}  // namespace
}  // namespace engine::data
