// Byte-level text splits (see text.h).
#include "engine/data/text.h"

#include <cmath>
#include <fstream>
#include <system_error>
#include <filesystem>

#include "engine/base/check.h"

namespace engine::data {
namespace {

std::vector<uint8_t> ReadTextFile(const std::string& flag, const std::string& path) {
  std::error_code ec;
  const std::filesystem::file_status st = std::filesystem::status(path, ec);
  ENGINE_CHECK(!ec && std::filesystem::exists(st), flag, "=", path, ": no such file; expected a text file (run ",
               "tools/setup.sh to write the default King James Bible text, or point ", flag, " at any UTF-8 or byte ",
               "text file)");
  ENGINE_CHECK(std::filesystem::is_regular_file(st), flag, "=", path, ": not a regular file; expected a text file");
  const uintmax_t size = std::filesystem::file_size(path, ec);
  ENGINE_CHECK(!ec, flag, "=", path, ": its size cannot be read (", ec.message(), ")");
  ENGINE_CHECK(size > 0, flag, "=", path, ": the file is empty; expected at least one sequence of text");
  ENGINE_CHECK(size <= static_cast<uintmax_t>(kMaxTextBytes), flag, "=", path, ": ", size,
               " bytes; expected at most ", kMaxTextBytes, " (the text is held in memory as 4-byte floats)");
  std::ifstream in(path, std::ios::binary);
  ENGINE_CHECK(in.good(), flag, "=", path, ": cannot be opened for reading");
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  ENGINE_CHECK(in.gcount() == static_cast<std::streamsize>(size), flag, "=", path, ": read ", in.gcount(), " of ",
               size, " bytes (the file changed while it was read?)");
  return bytes;
}

void CheckSplitLength(const std::string& flag, const std::string& what, int64_t bytes, int64_t seq_len) {
  ENGINE_CHECK(bytes >= seq_len + 1, flag, ": the ", what, " holds ", bytes, " bytes; expected at least --seq_len + 1 = ",
               seq_len + 1, " (one sequence): use a longer text or a smaller --seq_len");
}

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t comma = s.find(',', start);
    parts.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return parts;
}

}  // namespace

Dataset MakeTextDataset(const std::string& name, const std::vector<uint8_t>& bytes, int64_t seq_len) {
  const int64_t n = static_cast<int64_t>(bytes.size());
  ENGINE_CHECK(seq_len > 0 && n >= seq_len + 1, "text data set ", name, ": ", n, " bytes with seq_len ", seq_len,
               "; expected seq_len > 0 and at least seq_len + 1 bytes");
  const int64_t sequences = (n - 1) / seq_len;
  Dataset d;
  d.name = name;
  d.height = 1;
  d.width = seq_len + 1;
  d.num_classes = kByteVocabulary;
  d.images = Tensor({sequences, seq_len + 1});
  for (int64_t i = 0; i < sequences; ++i) {
    float* row = d.images.data() + i * (seq_len + 1);
    for (int64_t t = 0; t <= seq_len; ++t) row[t] = static_cast<float>(bytes[static_cast<size_t>(i * seq_len + t)]);
  }
  d.labels.assign(static_cast<size_t>(sequences), 0);
  return d;
}

TextSplits LoadTextSplits(const std::string& flag, const std::string& spec, const TextOptions& o) {
  ENGINE_CHECK(o.seq_len > 0, "--seq_len=", o.seq_len, ": expected > 0");
  ENGINE_CHECK(o.validation_fraction > 0 && o.test_fraction > 0 && o.validation_fraction + o.test_fraction < 1,
               "text splits: validation fraction ", o.validation_fraction, ", test fraction ", o.test_fraction,
               "; expected both > 0 and their sum < 1");
  const std::vector<std::string> paths = SplitCommas(spec);
  ENGINE_CHECK(paths.size() == 1 || paths.size() == 3, flag, "=", spec, ": ", paths.size(),
               " comma-separated paths; expected one file (split 90/5/5) or three (train,validation,test)");
  for (const std::string& p : paths) ENGINE_CHECK(!p.empty(), flag, "=", spec, ": an empty path; expected file paths");
  TextSplits s;
  if (paths.size() == 3) {
    const char* what[3] = {"training file", "validation file", "test file"};
    Dataset* out[3] = {&s.train, &s.validation, &s.test};
    int64_t* sizes[3] = {&s.train_bytes, &s.validation_bytes, &s.test_bytes};
    for (int k = 0; k < 3; ++k) {
      const std::vector<uint8_t> bytes = ReadTextFile(flag, paths[k]);
      *sizes[k] = static_cast<int64_t>(bytes.size());
      CheckSplitLength(flag + "=" + paths[k], what[k], *sizes[k], o.seq_len);
      *out[k] = MakeTextDataset(paths[k], bytes, o.seq_len);
    }
    return s;
  }
  const std::vector<uint8_t> bytes = ReadTextFile(flag, paths[0]);
  const int64_t n = static_cast<int64_t>(bytes.size());
  s.test_bytes = static_cast<int64_t>(std::floor(static_cast<double>(n) * o.test_fraction));
  s.validation_bytes = static_cast<int64_t>(std::floor(static_cast<double>(n) * o.validation_fraction));
  s.train_bytes = n - s.test_bytes - s.validation_bytes;
  const std::string where = flag + "=" + paths[0] + " (" + std::to_string(n) + " bytes)";
  CheckSplitLength(where, "training split", s.train_bytes, o.seq_len);
  CheckSplitLength(where, "validation split", s.validation_bytes, o.seq_len);
  CheckSplitLength(where, "test split", s.test_bytes, o.seq_len);
  auto slice = [&bytes](int64_t begin, int64_t count) {
    return std::vector<uint8_t>(bytes.begin() + begin, bytes.begin() + begin + count);
  };
  s.train = MakeTextDataset(paths[0] + "/train", slice(0, s.train_bytes), o.seq_len);
  s.validation = MakeTextDataset(paths[0] + "/validation", slice(s.train_bytes, s.validation_bytes), o.seq_len);
  s.test = MakeTextDataset(paths[0] + "/test", slice(s.train_bytes + s.validation_bytes, s.test_bytes), o.seq_len);
  return s;
}

std::vector<int32_t> NextByteTargets(const Tensor& x) {
  ENGINE_CHECK(x.rank() == 2 && x.dim(0) >= 2, "NextByteTargets: batch has shape ", x.ShapeString(),
               "; expected [seq_len + 1, batch] with seq_len >= 1");
  const int64_t steps = x.dim(0) - 1, batch = x.dim(1);
  std::vector<int32_t> targets(static_cast<size_t>(steps * batch));
  for (int64_t t = 0; t < steps; ++t) {
    for (int64_t b = 0; b < batch; ++b) {
      const float v = x.data()[(t + 1) * batch + b];
      ENGINE_CHECK(v >= 0 && v < kByteVocabulary && v == std::floor(v), "NextByteTargets: value ", v, " at [", t + 1,
                   ", ", b, "]; expected a byte value 0..255");
      targets[static_cast<size_t>(t * batch + b)] = static_cast<int32_t>(v);
    }
  }
  return targets;
}

}  // namespace engine::data
