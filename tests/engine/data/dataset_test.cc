// Tests for //engine/data:dataset: hand-made IDX datasets, normalisation against a double-precision oracle,
// the install hint for missing files, and (when installed) the real Fashion-MNIST.
#include "engine/data/dataset.h"

#include <sys/stat.h>
#include <zlib.h>

#include <cmath>
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

template <typename Fn>
std::string ErrorOf(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Deterministic bytes for n images of h x w.
std::vector<uint8_t> MakePixels(int64_t n, int64_t h, int64_t w, int salt) {
  std::vector<uint8_t> p(static_cast<size_t>(n * h * w));
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<uint8_t>((i * 37 + salt * 101 + (i % 5) * 50) % 256);
  return p;
}

// Writes a 4-file dataset in `dir`: train as .gz, test as plain files (exercising the fallback).
struct SmallSet {
  std::vector<uint8_t> train_pixels, test_pixels, train_labels, test_labels;
};
SmallSet WriteSmallSet(const std::string& dir) {
  SmallSet s;
  s.train_pixels = MakePixels(6, 3, 2, 1);
  s.test_pixels = MakePixels(4, 3, 2, 2);
  s.train_labels = {0, 1, 2, 9, 4, 5};
  s.test_labels = {9, 8, 7, 0};
  testutil::WriteBytes(dir + "/train-images-idx3-ubyte.gz", testutil::IdxBytes(0x803, {6, 3, 2}, s.train_pixels), true);
  testutil::WriteBytes(dir + "/train-labels-idx1-ubyte.gz", testutil::IdxBytes(0x801, {6}, s.train_labels), true);
  testutil::WriteBytes(dir + "/t10k-images-idx3-ubyte", testutil::IdxBytes(0x803, {4, 3, 2}, s.test_pixels), false);
  testutil::WriteBytes(dir + "/t10k-labels-idx1-ubyte", testutil::IdxBytes(0x801, {4}, s.test_labels), false);
  return s;
}

TEST(LoadIdxDataset, PixelsAreByteOver255AndLabelsKept) {
  const std::string dir = testutil::TempDir("dataset_raw");
  const SmallSet s = WriteSmallSet(dir);
  const Dataset d = LoadIdxDataset(dir + "/train-images-idx3-ubyte.gz", dir + "/train-labels-idx1-ubyte.gz", 10,
                                   "small/train");
  EXPECT_EQ(d.name, "small/train");
  EXPECT_EQ(d.num_samples(), 6);
  EXPECT_EQ(d.height, 3);
  EXPECT_EQ(d.width, 2);
  EXPECT_EQ(d.features(), 6);
  EXPECT_EQ(d.num_classes, 10);
  EXPECT_EQ(d.images.shape(), (std::vector<int64_t>{6, 6}));
  for (int64_t i = 0; i < 6; ++i) {
    EXPECT_EQ(d.labels[i], s.train_labels[i]) << "sample " << i;
    for (int64_t f = 0; f < 6; ++f) {
      EXPECT_EQ(d.image(i)[f], static_cast<float>(s.train_pixels[i * 6 + f]) / 255.0f) << "sample " << i << " f " << f;
    }
  }
}

TEST(LoadIdxDataset, CountMismatchIsAnError) {
  const std::string dir = testutil::TempDir("dataset_mismatch");
  testutil::WriteBytes(dir + "/img", testutil::IdxBytes(0x803, {3, 2, 2}, MakePixels(3, 2, 2, 0)), false);
  testutil::WriteBytes(dir + "/lab", testutil::IdxBytes(0x801, {4}, {0, 1, 2, 3}), false);
  EXPECT_THAT(ErrorOf([&] { LoadIdxDataset(dir + "/img", dir + "/lab"); }),
              AllOf(HasSubstr("3 images"), HasSubstr("4 labels"), HasSubstr(dir + "/lab")));
}

TEST(LoadFashionMnist, NormalisesBothSplitsWithTrainStatistics) {
  const std::string dir = testutil::TempDir("dataset_small");
  const SmallSet s = WriteSmallSet(dir);
  const TrainTestSplit split = LoadFashionMnist(dir, /*normalize=*/true, "small");
  // Oracle: mean and population std of train pixels / 255, in double, straight from the bytes.
  double sum = 0.0;
  for (uint8_t v : s.train_pixels) sum += v / 255.0;
  const double mean = sum / s.train_pixels.size();
  double sq = 0.0;
  for (uint8_t v : s.train_pixels) sq += (v / 255.0 - mean) * (v / 255.0 - mean);
  const double std = std::sqrt(sq / s.train_pixels.size());
  EXPECT_NEAR(split.train.normalization.mean, mean, 1e-6);
  EXPECT_NEAR(split.train.normalization.std, std, 1e-6);
  EXPECT_EQ(split.test.normalization.mean, split.train.normalization.mean);
  EXPECT_EQ(split.test.normalization.std, split.train.normalization.std);
  EXPECT_EQ(split.train.name, "small/train");
  EXPECT_EQ(split.test.name, "small/test");
  ASSERT_EQ(split.test.num_samples(), 4);
  for (size_t i = 0; i < s.train_pixels.size(); ++i) {
    EXPECT_NEAR(split.train.images[i], (s.train_pixels[i] / 255.0 - mean) / std, 1e-5) << "train element " << i;
  }
  for (size_t i = 0; i < s.test_pixels.size(); ++i) {
    EXPECT_NEAR(split.test.images[i], (s.test_pixels[i] / 255.0 - mean) / std, 1e-5) << "test element " << i;
  }
  EXPECT_EQ(split.test.labels, std::vector<int32_t>(s.test_labels.begin(), s.test_labels.end()));
  EXPECT_NEAR(split.train.background(), -mean / std, 1e-5);

  const TrainTestSplit raw = LoadFashionMnist(dir, /*normalize=*/false, "small");
  EXPECT_EQ(raw.train.normalization.mean, 0.0f);
  EXPECT_EQ(raw.train.normalization.std, 1.0f);
  EXPECT_EQ(raw.test.images[5], s.test_pixels[5] / 255.0f);
}

TEST(Normalization, HandComputedTwoValueCase) {
  // Pixels 0 and 255 in equal numbers: mean 0.5, std 0.5; normalised values are exactly -1 and +1.
  Dataset d;
  d.name = "two_values";
  d.height = 1;
  d.width = 4;
  d.labels = {0, 1};
  d.images = Tensor({2, 4});
  const float v[8] = {0, 1, 1, 0, 1, 0, 0, 1};
  for (int i = 0; i < 8; ++i) d.images[i] = v[i];
  const Normalization norm = ComputeNormalization(d);
  EXPECT_FLOAT_EQ(norm.mean, 0.5f);
  EXPECT_FLOAT_EQ(norm.std, 0.5f);
  Normalize(norm, &d);
  for (int i = 0; i < 8; ++i) EXPECT_FLOAT_EQ(d.images[i], v[i] ? 1.0f : -1.0f) << i;
  EXPECT_THAT(ErrorOf([&] { Normalize(norm, &d); }), HasSubstr("already normalised"));
  EXPECT_THAT(ErrorOf([&] { ComputeNormalization(d); }), HasSubstr("already normalised"));
  Dataset e = d;
  e.normalization = {};
  EXPECT_THAT(ErrorOf([&] { Normalize({0.0f, 0.0f}, &e); }), HasSubstr("std > 0"));
}

TEST(LoadFashionMnist, MissingDirectoryGivesInstallHint) {
  const std::string dir = testutil::TempDir("dataset_missing") + "/no-such-dir";
  EXPECT_THAT(ErrorOf([&] { LoadFashionMnist(dir); }),
              AllOf(HasSubstr(dir), HasSubstr("dataset-fashion-mnist"), HasSubstr("apt-get install"),
                    HasSubstr("--data_dir")));
}

TEST(LoadFashionMnist, MissingFileGivesInstallHint) {
  const std::string dir = testutil::TempDir("dataset_missing_file");
  WriteSmallSet(dir);
  std::remove((dir + "/t10k-labels-idx1-ubyte").c_str());
  EXPECT_THAT(ErrorOf([&] { LoadFashionMnist(dir); }),
              AllOf(HasSubstr(dir + "/t10k-labels-idx1-ubyte.gz"), HasSubstr("dataset-fashion-mnist"),
                    HasSubstr("--data_dir")));
}

// --- the real dataset, when the Debian package is installed ---

bool Exists(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0;
}

// Independent decode of a gzip'd IDX payload: zlib straight into memory, skipping the `header` bytes.
std::vector<uint8_t> RawPayload(const std::string& path, int header) {
  gzFile f = gzopen(path.c_str(), "rb");
  std::vector<uint8_t> all;
  uint8_t buf[1 << 16];
  for (int got; (got = gzread(f, buf, sizeof(buf))) > 0;) all.insert(all.end(), buf, buf + got);
  gzclose(f);
  return std::vector<uint8_t>(all.begin() + header, all.end());
}

TEST(LoadFashionMnist, RealDatasetIfInstalled) {
  if (!Exists(kDefaultFashionMnistDir)) GTEST_SKIP() << kDefaultFashionMnistDir << " absent";
  const TrainTestSplit split = LoadFashionMnist();
  EXPECT_EQ(split.train.num_samples(), 60000);
  EXPECT_EQ(split.test.num_samples(), 10000);
  for (const Dataset* d : {&split.train, &split.test}) {
    EXPECT_EQ(d->height, 28);
    EXPECT_EQ(d->width, 28);
    EXPECT_EQ(d->images.shape(), (std::vector<int64_t>{d->num_samples(), 784}));
    std::vector<int64_t> counts(10, 0);
    for (int32_t label : d->labels) {
      ASSERT_TRUE(label >= 0 && label < 10) << label;
      ++counts[label];
    }
    const int64_t per_class = d->num_samples() / 10;  // Fashion-MNIST is balanced: 6000 / 1000 per class
    for (int c = 0; c < 10; ++c) EXPECT_EQ(counts[c], per_class) << d->name << " class " << c;
  }
  // Published Fashion-MNIST statistics (x/255): mean ~0.2860, std ~0.3530.
  EXPECT_NEAR(split.train.normalization.mean, 0.2860, 5e-4);
  EXPECT_NEAR(split.train.normalization.std, 0.3530, 5e-4);
  // Test-split pixels against an independent decode.
  const std::vector<uint8_t> raw =
      RawPayload(std::string(kDefaultFashionMnistDir) + "/t10k-images-idx3-ubyte.gz", /*header=*/16);
  ASSERT_EQ(static_cast<int64_t>(raw.size()), split.test.images.size());
  const double mean = split.train.normalization.mean, std = split.train.normalization.std;
  int64_t bad = 0;
  for (size_t i = 0; i < raw.size(); ++i) bad += std::fabs(split.test.images[i] - (raw[i] / 255.0 - mean) / std) > 1e-5;
  EXPECT_EQ(bad, 0);
}

}  // namespace
}  // namespace engine::data
