// Checkpoint format (little-endian):
//   "RIGLCKPT" | u32 version | u64 meta_len | meta JSON | u64 blob_count |
//   blob_count x (u32 name_len | name | u8 type | u64 count | count * sizeof(type) bytes) | u32 crc32(all before)
#include "rigl/checkpoint.h"

#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "engine/base/check.h"

namespace rigl {
namespace {

constexpr char kMagic[8] = {'R', 'I', 'G', 'L', 'C', 'K', 'P', 'T'};
constexpr uint32_t kFormatVersion = 1;
constexpr uint8_t kFloat = 1, kInt64 = 2, kInt32 = 3;

// A file written to path.tmp and renamed over path by Commit(); removed again if never committed. Every write is
// checked, and the CRC-32 of everything written so far is kept, so a checkpoint streams straight from the tensors
// to disk without an in-memory copy of the file.
class AtomicFile {
 public:
  explicit AtomicFile(const std::string& path) : path_(path), tmp_(path + ".tmp") {
    f_ = std::fopen(tmp_.c_str(), "wb");
    ENGINE_CHECK(f_ != nullptr, "cannot open ", tmp_, " for writing: ", std::strerror(errno),
                 "; HINT: the directory must exist and be writable");
  }
  ~AtomicFile() {
    if (f_ != nullptr) {
      std::fclose(f_);
      std::remove(tmp_.c_str());
    }
  }
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void Write(const void* data, size_t n) {
    if (n == 0) return;  // an empty blob may have data == nullptr, and crc32(crc, Z_NULL, 0) would reset the CRC
    const size_t written = std::fwrite(data, 1, n, f_);
    ENGINE_CHECK(written == n, "writing ", tmp_, ": wrote ", written, " of ", n, " bytes (disk full?)");
    crc_ = crc32_z(crc_, reinterpret_cast<const Bytef*>(data), n);
    size_ += n;
  }
  template <typename T>
  void Put(T v) {
    Write(&v, sizeof(T));
  }
  uint32_t crc() const { return static_cast<uint32_t>(crc_); }

  void Commit() {
    const bool flushed = std::fflush(f_) == 0;
    const bool closed = std::fclose(f_) == 0;
    f_ = nullptr;
    if (!flushed || !closed) std::remove(tmp_.c_str());
    ENGINE_CHECK(flushed && closed, "writing ", tmp_, ": flushing ", size_, " bytes failed: ", std::strerror(errno),
                 " (disk full?)");
    ENGINE_CHECK(std::rename(tmp_.c_str(), path_.c_str()) == 0, "renaming ", tmp_, " to ", path_, ": ",
                 std::strerror(errno));
  }

 private:
  std::string path_, tmp_;
  std::FILE* f_ = nullptr;
  uLong crc_ = crc32(0L, Z_NULL, 0);
  size_t size_ = 0;
};

const char* TypeName(uint8_t type) {
  return type == kFloat ? "float32" : type == kInt64 ? "int64" : type == kInt32 ? "int32" : "unknown";
}

}  // namespace

void WriteFileAtomically(const std::string& path, const std::string& text) {
  AtomicFile file(path);
  file.Write(text.data(), text.size());
  file.Commit();
}

void CheckpointWriter::AddFloats(const std::string& name, const float* data, int64_t count) {
  blobs_.push_back({name, kFloat, data, count});
}
void CheckpointWriter::AddInt64s(const std::string& name, const int64_t* data, int64_t count) {
  blobs_.push_back({name, kInt64, data, count});
}
void CheckpointWriter::AddInt32s(const std::string& name, const int32_t* data, int64_t count) {
  blobs_.push_back({name, kInt32, data, count});
}

void CheckpointWriter::Write(const std::string& path) const {
  AtomicFile file(path);
  file.Write(kMagic, sizeof(kMagic));
  file.Put<uint32_t>(kFormatVersion);
  const std::string meta = meta_.dump();
  file.Put<uint64_t>(meta.size());
  file.Write(meta.data(), meta.size());
  file.Put<uint64_t>(blobs_.size());
  for (const Blob& blob : blobs_) {
    file.Put<uint32_t>(static_cast<uint32_t>(blob.name.size()));
    file.Write(blob.name.data(), blob.name.size());
    file.Put<uint8_t>(blob.type);
    file.Put<uint64_t>(static_cast<uint64_t>(blob.count));
    file.Write(blob.data, static_cast<size_t>(blob.count) * (blob.type == kInt64 ? 8 : 4));
  }
  file.Put<uint32_t>(file.crc());
  file.Commit();
}

CheckpointReader::CheckpointReader(const std::string& path) : path_(path) {
  std::ifstream in(path, std::ios::binary);
  ENGINE_CHECK(in.good(), "checkpoint ", path, ": cannot open (", std::strerror(errno), ")");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string data = buffer.str();
  const size_t min_size = sizeof(kMagic) + 4 + 8 + 8 + 4;
  ENGINE_CHECK(data.size() >= min_size, "checkpoint ", path, ": ", data.size(), " bytes; expected at least ",
               min_size, " (truncated or not a checkpoint)");
  ENGINE_CHECK(std::memcmp(data.data(), kMagic, sizeof(kMagic)) == 0, "checkpoint ", path,
               ": bad magic; expected a file starting with RIGLCKPT (not a checkpoint of this trainer)");
  uint32_t stored_crc;
  std::memcpy(&stored_crc, data.data() + data.size() - 4, 4);
  const uint32_t crc = static_cast<uint32_t>(
      crc32_z(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(data.data()), data.size() - 4));
  ENGINE_CHECK(crc == stored_crc, "checkpoint ", path, ": checksum mismatch (stored 0x", std::hex, stored_crc,
               ", computed 0x", crc, std::dec, "); the file is corrupt or truncated: refusing to resume from it");
  size_t pos = sizeof(kMagic);
  const size_t end = data.size() - 4;
  auto need = [&](size_t n, const char* what) {
    ENGINE_CHECK(pos + n <= end, "checkpoint ", path, ": truncated while reading ", what);
  };
  auto take = [&](auto* v, const char* what) {
    need(sizeof(*v), what);
    std::memcpy(v, data.data() + pos, sizeof(*v));
    pos += sizeof(*v);
  };
  uint32_t version;
  take(&version, "the version");
  ENGINE_CHECK(version == kFormatVersion, "checkpoint ", path, ": format version ", version, "; expected ",
               kFormatVersion);
  uint64_t meta_len;
  take(&meta_len, "the header length");
  need(meta_len, "the header");
  meta_ = nlohmann::json::parse(data.substr(pos, meta_len), nullptr, /*allow_exceptions=*/false);
  ENGINE_CHECK(!meta_.is_discarded(), "checkpoint ", path, ": the JSON header does not parse");
  pos += meta_len;
  uint64_t count;
  take(&count, "the blob count");
  for (uint64_t b = 0; b < count; ++b) {
    uint32_t name_len;
    take(&name_len, "a blob name length");
    need(name_len, "a blob name");
    std::string name = data.substr(pos, name_len);
    pos += name_len;
    Blob blob;
    take(&blob.type, "a blob type");
    ENGINE_CHECK(blob.type == kFloat || blob.type == kInt64 || blob.type == kInt32, "checkpoint ", path, ": blob ",
                 name, " has unknown type ", int{blob.type});
    uint64_t n;
    take(&n, "a blob length");
    const size_t bytes = n * (blob.type == kInt64 ? 8 : 4);
    need(bytes, name.c_str());
    blob.bytes = data.substr(pos, bytes);
    pos += bytes;
    blobs_[name] = std::move(blob);
  }
  ENGINE_CHECK(pos == end, "checkpoint ", path, ": ", end - pos, " unexpected trailing bytes");
}

const CheckpointReader::Blob& CheckpointReader::Get(const std::string& name, uint8_t type, size_t elem,
                                                    int64_t expected_count) const {
  const auto it = blobs_.find(name);
  ENGINE_CHECK(it != blobs_.end(), "checkpoint ", path_, ": no entry '", name,
               "' (saved by a different model or method?)");
  ENGINE_CHECK(it->second.type == type, "checkpoint ", path_, ": entry '", name, "' is ", TypeName(it->second.type),
               "; expected ", TypeName(type));
  const int64_t count = static_cast<int64_t>(it->second.bytes.size() / elem);
  ENGINE_CHECK(expected_count < 0 || count == expected_count, "checkpoint ", path_, ": entry '", name, "' has ", count,
               " elements; expected ", expected_count, " (saved by a different model?)");
  return it->second;
}

template <typename T>
static std::vector<T> Unpack(const std::string& bytes) {
  std::vector<T> out(bytes.size() / sizeof(T));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(T));
  return out;
}

std::vector<float> CheckpointReader::Floats(const std::string& name, int64_t expected_count) const {
  return Unpack<float>(Get(name, kFloat, 4, expected_count).bytes);
}
std::vector<int64_t> CheckpointReader::Int64s(const std::string& name, int64_t expected_count) const {
  return Unpack<int64_t>(Get(name, kInt64, 8, expected_count).bytes);
}
std::vector<int32_t> CheckpointReader::Int32s(const std::string& name, int64_t expected_count) const {
  return Unpack<int32_t>(Get(name, kInt32, 4, expected_count).bytes);
}

}  // namespace rigl
