// Dataset loading and normalisation.
#include "engine/data/dataset.h"

#include <sys/stat.h>

#include <cmath>

#include "engine/base/check.h"
#include "engine/data/idx_reader.h"

namespace engine::data {
namespace {

constexpr char kInstallHint[] =
    "HINT: install the Debian package `dataset-fashion-mnist` (apt-get install dataset-fashion-mnist), "
    "or pass --data_dir=<directory holding the IDX files>";

bool IsRegularFile(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

bool IsDirectory(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

// <dir>/<base>.gz if present, else <dir>/<base>; otherwise an error with the install hint.
std::string ResolveIdxFile(const std::string& dir, const std::string& base) {
  const std::string gz = dir + "/" + base + ".gz";
  if (IsRegularFile(gz)) return gz;
  const std::string plain = dir + "/" + base;
  if (IsRegularFile(plain)) return plain;
  ENGINE_CHECK(false, "dataset file ", gz, " not found (nor ", plain, "); expected the IDX file there. ",
               kInstallHint);
  return "";
}

}  // namespace

Dataset LoadIdxDataset(const std::string& images_path, const std::string& labels_path, int num_classes,
                       const std::string& name) {
  const IdxArray images = ReadIdxImages(images_path);
  const IdxArray labels = ReadIdxLabels(labels_path, num_classes);
  const int64_t n = images.dims[0];
  ENGINE_CHECK(labels.dims[0] == n, "dataset ", (name.empty() ? images_path : name), ": ", images_path, " holds ",
               n, " images but ", labels_path, " holds ", labels.dims[0], " labels; expected equal counts");

  Dataset out;
  out.name = name.empty() ? images_path : name;
  out.height = images.dims[1];
  out.width = images.dims[2];
  out.num_classes = num_classes;
  const int64_t features = out.height * out.width;

  float to_unit[256];  // x/255 for every byte value: one table lookup per pixel
  for (int v = 0; v < 256; ++v) to_unit[v] = static_cast<float>(v) / 255.0f;
  out.images = Tensor({n, features});
  float* dst = out.images.data();
  const uint8_t* src = images.data.data();
  const int64_t total = n * features;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < total; ++i) dst[i] = to_unit[src[i]];

  out.labels.assign(labels.data.begin(), labels.data.end());
  return out;
}

Normalization ComputeNormalization(const Dataset& data) {
  const int64_t n = data.num_samples();
  const int64_t f = data.features();
  ENGINE_CHECK(n > 0 && f > 0, "ComputeNormalization(", data.name, "): ", n, " samples of ", f,
               " features; expected a non-empty dataset");
  ENGINE_CHECK(data.normalization.mean == 0.0f && data.normalization.std == 1.0f, "ComputeNormalization(",
               data.name, "): dataset already normalised (mean ", data.normalization.mean, ", std ",
               data.normalization.std, "); expected raw x/255 pixels");
  // Per-sample partial sums (one writer each), then an ordered sum: the result does not depend on thread count.
  std::vector<double> partial(static_cast<size_t>(n));
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float* x = data.image(i);
    double s = 0.0;
    for (int64_t j = 0; j < f; ++j) s += x[j];
    partial[i] = s;
  }
  double sum = 0.0;
  for (double s : partial) sum += s;
  const double mean = sum / static_cast<double>(n * f);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float* x = data.image(i);
    double s = 0.0;
    for (int64_t j = 0; j < f; ++j) s += (x[j] - mean) * (x[j] - mean);
    partial[i] = s;
  }
  double squares = 0.0;
  for (double s : partial) squares += s;
  const double std = std::sqrt(squares / static_cast<double>(n * f));
  ENGINE_CHECK(std > 0.0, "ComputeNormalization(", data.name, "): pixel std is 0; expected a non-constant dataset");
  return {static_cast<float>(mean), static_cast<float>(std)};
}

void Normalize(const Normalization& norm, Dataset* data) {
  ENGINE_CHECK(norm.std > 0.0f && std::isfinite(norm.std) && std::isfinite(norm.mean), "Normalize(", data->name,
               "): mean ", norm.mean, ", std ", norm.std, "; expected finite values and std > 0");
  ENGINE_CHECK(data->normalization.mean == 0.0f && data->normalization.std == 1.0f, "Normalize(", data->name,
               "): already normalised (mean ", data->normalization.mean, ", std ", data->normalization.std,
               "); expected raw x/255 pixels");
  const float mean = norm.mean;
  const float inv_std = 1.0f / norm.std;
  float* x = data->images.data();
  const int64_t total = data->images.size();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < total; ++i) x[i] = (x[i] - mean) * inv_std;
  data->normalization = norm;
}

TrainTestSplit LoadFashionMnist(const std::string& dir, bool normalize, const std::string& name) {
  ENGINE_CHECK(IsDirectory(dir), "dataset directory ", dir, " not found; expected a directory holding ",
               "train-images-idx3-ubyte.gz and friends. ", kInstallHint);
  // Resolve all four files first, so a missing one is reported before any slow decoding.
  const std::string train_images = ResolveIdxFile(dir, "train-images-idx3-ubyte");
  const std::string train_labels = ResolveIdxFile(dir, "train-labels-idx1-ubyte");
  const std::string test_images = ResolveIdxFile(dir, "t10k-images-idx3-ubyte");
  const std::string test_labels = ResolveIdxFile(dir, "t10k-labels-idx1-ubyte");
  TrainTestSplit split;
  split.train = LoadIdxDataset(train_images, train_labels, /*num_classes=*/10, name + "/train");
  split.test = LoadIdxDataset(test_images, test_labels, /*num_classes=*/10, name + "/test");
  ENGINE_CHECK(split.train.height == split.test.height && split.train.width == split.test.width, "dataset ", name,
               ": train images are ", split.train.height, "x", split.train.width, " but test images are ",
               split.test.height, "x", split.test.width, "; expected the same image size");
  if (normalize) {
    const Normalization norm = ComputeNormalization(split.train);
    Normalize(norm, &split.train);
    Normalize(norm, &split.test);
  }
  return split;
}

}  // namespace engine::data
