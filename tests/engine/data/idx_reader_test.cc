// Tests for //engine/data:idx_reader: round trips of hand-made files (gzip'd and plain) and every error path.
#include "engine/data/idx_reader.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/base/check.h"
#include "tests/engine/data/idx_test_files.h"

namespace engine::data {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// The error text of `fn()`, or "" when it does not throw engine::Error.
template <typename Fn>
std::string ErrorOf(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Three 2x4 images with distinct, hand-picked bytes (including 0 and 255).
const std::vector<uint8_t> kPixels = {0,  1,  2,  3,  4,  5,  6,  7,     // image 0
                                      255, 254, 128, 127, 10, 20, 30, 40,  // image 1
                                      9,  8,  7,  6,  5,  4,  3,  200};    // image 2

class IdxReaderTest : public ::testing::TestWithParam<bool> {  // param: gzip
 protected:
  std::string Write(const std::string& file, const std::vector<uint8_t>& bytes) {
    const std::string path = testutil::TempDir("idx_reader_test") + "/" + file + (GetParam() ? ".gz" : "");
    testutil::WriteBytes(path, bytes, GetParam());
    return path;
  }
};

TEST_P(IdxReaderTest, ImagesRoundTrip) {
  const std::string path = Write("images", testutil::IdxBytes(0x803, {3, 2, 4}, kPixels));
  const IdxArray a = ReadIdxImages(path);
  EXPECT_EQ(a.path, path);
  EXPECT_EQ(a.dims, (std::vector<int64_t>{3, 2, 4}));
  EXPECT_EQ(a.data, kPixels);
}

TEST_P(IdxReaderTest, LabelsRoundTrip) {
  const std::vector<uint8_t> labels = {9, 0, 3, 3, 1};
  const std::string path = Write("labels", testutil::IdxBytes(0x801, {5}, labels));
  const IdxArray a = ReadIdxLabels(path, 10);
  EXPECT_EQ(a.dims, (std::vector<int64_t>{5}));
  EXPECT_EQ(a.data, labels);
}

TEST_P(IdxReaderTest, BadMagicPrintsExpectedAndFoundInHex) {
  // A labels file handed to the images reader, and a little-endian (byte-swapped) header.
  const std::string labels = Write("labels_as_images", testutil::IdxBytes(0x801, {3}, {1, 2, 3}));
  EXPECT_THAT(ErrorOf([&] { ReadIdxImages(labels); }),
              AllOf(HasSubstr(labels), HasSubstr("0x00000801"), HasSubstr("0x00000803")));
  const std::string swapped = Write("swapped", testutil::IdxBytes(0x03080000, {3, 2, 4}, kPixels));
  EXPECT_THAT(ErrorOf([&] { ReadIdxImages(swapped); }),
              AllOf(HasSubstr(swapped), HasSubstr("0x03080000"), HasSubstr("0x00000803")));
}

TEST_P(IdxReaderTest, TruncatedDataNamesExpectedAndGotBytes) {
  const std::vector<uint8_t> short_payload(kPixels.begin(), kPixels.begin() + 20);  // 24 bytes declared
  const std::string path = Write("truncated", testutil::IdxBytes(0x803, {3, 2, 4}, short_payload));
  EXPECT_THAT(ErrorOf([&] { ReadIdxImages(path); }),
              AllOf(HasSubstr(path), HasSubstr("truncated"), HasSubstr("got 20 bytes"),
                    HasSubstr("expected 24 bytes")));
}

TEST_P(IdxReaderTest, TrailingBytesAreAnError) {
  std::vector<uint8_t> long_payload = kPixels;
  long_payload.insert(long_payload.end(), {1, 2, 3});
  const std::string path = Write("trailing", testutil::IdxBytes(0x803, {3, 2, 4}, long_payload));
  EXPECT_THAT(ErrorOf([&] { ReadIdxImages(path); }), AllOf(HasSubstr(path), HasSubstr("3 trailing bytes")));
}

TEST_P(IdxReaderTest, ZeroDimensionIsAnError) {
  const std::string path = Write("zero_dim", testutil::IdxBytes(0x803, {3, 0, 4}, {}));
  EXPECT_THAT(ErrorOf([&] { ReadIdxImages(path); }),
              AllOf(HasSubstr(path), HasSubstr("dimension 1 is 0"), HasSubstr("positive")));
}

TEST_P(IdxReaderTest, HeaderTruncatedIsAnError) {
  // Magic plus only two of the three dimensions.
  const std::string path = Write("short_header", testutil::IdxBytes(0x803, {3, 2}, {}));
  EXPECT_THAT(ErrorOf([&] { ReadIdxImages(path); }), AllOf(HasSubstr(path), HasSubstr("header truncated")));
  const std::string tiny = Write("tiny", {0, 0});
  EXPECT_THAT(ErrorOf([&] { ReadIdxImages(tiny); }), AllOf(HasSubstr(tiny), HasSubstr("header truncated")));
}

TEST_P(IdxReaderTest, LabelOutOfRangeNamesValueAndIndex) {
  const std::string path = Write("bad_labels", testutil::IdxBytes(0x801, {4}, {0, 9, 10, 2}));
  EXPECT_THAT(ErrorOf([&] { ReadIdxLabels(path, 10); }),
              AllOf(HasSubstr(path), HasSubstr("label 10 at index 2"), HasSubstr("num_classes = 10")));
  EXPECT_EQ(ErrorOf([&] { ReadIdxLabels(path, 11); }), "");  // the same file is fine with 11 classes
}

INSTANTIATE_TEST_SUITE_P(GzipAndPlain, IdxReaderTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) { return info.param ? "Gzip" : "Plain"; });

TEST(IdxReader, MissingFileNamesPath) {
  const std::string path = testutil::TempDir("idx_reader_test") + "/does-not-exist.gz";
  EXPECT_THAT(ErrorOf([&] { ReadIdxImages(path); }), AllOf(HasSubstr(path), HasSubstr("cannot open")));
}

TEST(IdxReader, CorruptGzipStreamIsAnError) {
  // A valid gzip file cut in the middle of its deflate stream.
  std::vector<uint8_t> pixels(5000);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>((i * 7919) % 251);
  const std::string dir = testutil::TempDir("idx_reader_test");
  const std::string whole = dir + "/whole.gz";
  testutil::WriteBytes(whole, testutil::IdxBytes(0x803, {5, 20, 50}, pixels), /*gzip=*/true);
  ASSERT_EQ(ReadIdxImages(whole).data, pixels);
  std::FILE* f = std::fopen(whole.c_str(), "rb");
  std::vector<uint8_t> gz(1 << 16);
  gz.resize(std::fread(gz.data(), 1, gz.size(), f));
  std::fclose(f);
  gz.resize(gz.size() / 2);
  const std::string cut = dir + "/cut.gz";
  testutil::WriteBytes(cut, gz, /*gzip=*/false);
  EXPECT_THAT(ErrorOf([&] { ReadIdxImages(cut); }), HasSubstr(cut));
}

// Issue 15's crafted header: 4 x 2147529989 x 2147437308 overflows int64 when multiplied naively (the wrap slipped
// under the 2^40 cap and the trainer died in vector::_M_default_append). Refused at the header, naming the dims.
TEST_P(IdxReaderTest, OverflowingDimsAreRefusedAtTheHeader) {
  const std::string path =
      Write("overflow", testutil::IdxBytes(0x803, {4, 0x8000b505u, 0x7fff4afcu}, std::vector<uint8_t>(166832, 7)));
  EXPECT_THAT(ErrorOf([&] { ReadIdxImages(path); }),
              AllOf(HasSubstr(path), HasSubstr("4 x 2147529989 x 2147437308"), HasSubstr("2^40")));
  const std::string max = Write("max_dims", testutil::IdxBytes(0x803, {0xffffffffu, 0xffffffffu, 0xffffffffu}, {}));
  EXPECT_THAT(ErrorOf([&] { ReadIdxImages(max); }),
              AllOf(HasSubstr("4294967295 x 4294967295 ..."), HasSubstr("2^40")));
}

// A header that declares a large payload but brings a few bytes: refused as truncated, and the reader's buffer
// starts at 1 MiB (not the declared size, nor 64 MiB), so a fuzzer or an attacker cannot make it allocate much.
TEST_P(IdxReaderTest, LargeDeclaredPayloadWithFewBytesIsTruncated) {
  const std::string path = Write("large_declared", testutil::IdxBytes(0x803, {60000, 28, 28}, kPixels));
  EXPECT_THAT(ErrorOf([&] { ReadIdxImages(path); }),
              AllOf(HasSubstr("got 24 bytes"), HasSubstr("expected 47040000 bytes")));
}

// zlib ignores bytes after the end of a gzip stream; the reader checks the stream's trailer ends the file.
TEST(IdxReader, GarbageAfterTheGzipStreamIsAnError) {
  const std::string dir = testutil::TempDir("idx_reader_test");
  const std::string path = dir + "/garbage_after.gz";
  testutil::WriteBytes(path, testutil::IdxBytes(0x803, {3, 2, 4}, kPixels), /*gzip=*/true);
  ASSERT_EQ(ReadIdxImages(path).data, kPixels);
  std::FILE* f = std::fopen(path.c_str(), "ab");
  ASSERT_NE(f, nullptr);
  std::fputs("trailing garbage", f);
  std::fclose(f);
  EXPECT_THAT(ErrorOf([&] { ReadIdxImages(path); }), AllOf(HasSubstr(path), HasSubstr("one gzip stream")));
}

TEST(IdxReader, Hex32) {
  EXPECT_EQ(Hex32(0x803), "0x00000803");
  EXPECT_EQ(Hex32(0xdeadbeef), "0xdeadbeef");
}

}  // namespace
}  // namespace engine::data
