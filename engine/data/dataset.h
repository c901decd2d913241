// In-memory image classification datasets loaded from IDX files (Fashion-MNIST, MNIST, KMNIST).
// Images are stored sample-major as float [N, H*W] (the user-facing layout); the batcher transposes them into the
// engine's feature-major batches. Pixel values are x/255, optionally normalised to (x/255 - mean) / std.
#ifndef ENGINE_DATA_DATASET_H_
#define ENGINE_DATA_DATASET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor/tensor.h"

namespace engine::data {

inline constexpr char kDefaultFashionMnistDir[] = "/usr/share/datasets/fashion-mnist";

// Per-dataset pixel statistics on the x/255 scale. The identity (0, 1) means "not normalised".
struct Normalization {
  float mean = 0.0f;
  float std = 1.0f;
};

struct Dataset {
  std::string name;            // e.g. "fashion-mnist/train"; used in error messages
  Tensor images;               // [num_samples, height * width], row-major pixels of each sample
  std::vector<int32_t> labels; // num_samples entries in [0, num_classes)
  int64_t height = 0;
  int64_t width = 0;
  int num_classes = 0;
  Normalization normalization;  // what has been applied to `images` (identity right after loading)

  int64_t num_samples() const { return static_cast<int64_t>(labels.size()); }
  int64_t features() const { return height * width; }
  const float* image(int64_t i) const { return images.data() + i * features(); }
  // The pixel value that encodes black (raw 0) after normalisation: padding for crops.
  float background() const { return (0.0f - normalization.mean) / normalization.std; }
};

// Loads an images file (magic 0x803) and a labels file (magic 0x801), gzip'd or plain. Checks that both hold the
// same number of samples and that labels are in [0, num_classes). Pixels become x/255 (no mean/std applied).
Dataset LoadIdxDataset(const std::string& images_path, const std::string& labels_path, int num_classes = 10,
                       const std::string& name = "");

// Mean and standard deviation (population) of all pixels of `data`, accumulated in double. Call it on the
// training set, before normalising. Fails on an empty or constant dataset (std would be 0).
Normalization ComputeNormalization(const Dataset& data);

// images = (images - norm.mean) / norm.std, in place; records `norm` in data->normalization.
// The dataset must not be normalised already; norm.std must be > 0.
void Normalize(const Normalization& norm, Dataset* data);

struct TrainTestSplit {
  Dataset train;
  Dataset test;
};

// Loads <dir>/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz, falling back to the names without .gz. A missing
// directory or file fails with a hint to install the Debian package `dataset-fashion-mnist` or pass --data_dir.
// With normalize = true, the mean/std of the training set is computed and applied to both splits. Any dataset
// in the same layout (MNIST, KMNIST) loads too; `name` prefixes the split names.
TrainTestSplit LoadFashionMnist(const std::string& dir = kDefaultFashionMnistDir, bool normalize = true,
                                const std::string& name = "fashion-mnist");

}  // namespace engine::data

#endif  // ENGINE_DATA_DATASET_H_
