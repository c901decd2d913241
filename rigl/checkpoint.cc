// Checkpoint format (little-endian):
//   "RIGLCKPT" | u32 version | u64 meta_len | meta JSON | u64 blob_count |
//   blob_count x (u32 name_len | name | u8 type | u64 count | count * sizeof(type) bytes) | u32 crc32(all before)
#include "rigl/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "engine/base/check.h"

namespace rigl {
namespace {

constexpr char kMagic[8] = {'R', 'I', 'G', 'L', 'C', 'K', 'P', 'T'};
constexpr uint32_t kFormatVersion = 1;
constexpr uint8_t kFloat = 1, kInt64 = 2, kInt32 = 3;
constexpr uint64_t ElementBytes(uint8_t type) { return type == kInt64 ? 8 : 4; }

// Test hook of the crash-consistency test (tests/integration/kill_resume_test.sh): with RIGL_TEST_KILL_AFTER_BYTES=N
// in the environment, the process SIGKILLs itself once N bytes have gone through AtomicFile writes, i.e. at a chosen
// point inside a checkpoint or metrics write. Unset (always, outside that test), it costs one branch per write.
void MaybeKillForTest(size_t bytes) {
  static const long long limit = [] {
    const char* v = std::getenv("RIGL_TEST_KILL_AFTER_BYTES");
    return v != nullptr ? std::atoll(v) : -1LL;
  }();
  static long long written = 0;
  if (limit < 0) return;
  written += static_cast<long long>(bytes);
  if (written >= limit) raise(SIGKILL);
}

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
    MaybeKillForTest(n);
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

  // fflush + fsync before the rename, and an fsync of the directory after it: a power loss then leaves either the
  // old file or the complete new one under `path`, never an empty or torn one.
  void Commit() {
    const bool flushed = std::fflush(f_) == 0 && fsync(fileno(f_)) == 0;
    const bool closed = std::fclose(f_) == 0;
    f_ = nullptr;
    if (!flushed || !closed) std::remove(tmp_.c_str());
    ENGINE_CHECK(flushed && closed, "writing ", tmp_, ": flushing ", size_, " bytes failed: ", std::strerror(errno),
                 " (disk full?)");
    ENGINE_CHECK(std::rename(tmp_.c_str(), path_.c_str()) == 0, "renaming ", tmp_, " to ", path_, ": ",
                 std::strerror(errno));
    const size_t slash = path_.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path_.substr(0, slash);
    const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
      fsync(fd);  // best effort: some file systems refuse fsync on directories
      close(fd);
    }
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
  WriteFileAtomically(path, {{text.data(), text.size()}});
}

void WriteFileAtomically(const std::string& path, const std::vector<std::pair<const void*, size_t>>& pieces) {
  AtomicFile file(path);
  for (const auto& [data, bytes] : pieces) file.Write(data, bytes);
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
    file.Write(blob.data, static_cast<size_t>(blob.count * ElementBytes(blob.type)));
  }
  file.Put<uint32_t>(file.crc());
  file.Commit();
}

CheckpointReader::CheckpointReader(const std::string& path) : path_(path) {
  // The file stays open: blobs are read from it on demand, and a checkpoint renamed over `path` meanwhile (another
  // run writing to the same directory) cannot swap the bytes under the verified header.
  file_.reset(std::fopen(path.c_str(), "rb"));
  ENGINE_CHECK(file_ != nullptr, "checkpoint ", path, ": cannot open (", std::strerror(errno), ")");
  std::FILE* f = file_.get();
  ENGINE_CHECK(fseeko(f, 0, SEEK_END) == 0, "checkpoint ", path, ": cannot seek (", std::strerror(errno), ")");
  const uint64_t size = static_cast<uint64_t>(ftello(f));
  const uint64_t min_size = sizeof(kMagic) + 4 + 8 + 8 + 4;
  ENGINE_CHECK(size >= min_size, "checkpoint ", path, ": ", size, " bytes; expected at least ", min_size,
               " (truncated or not a checkpoint)");
  // Verify the CRC-32 of everything before the last 4 bytes, streaming (memory: one chunk).
  ENGINE_CHECK(fseeko(f, 0, SEEK_SET) == 0, "checkpoint ", path, ": cannot seek (", std::strerror(errno), ")");
  std::vector<char> chunk(std::min<uint64_t>(size, uint64_t{4} << 20));
  uLong crc = crc32(0L, Z_NULL, 0);
  char magic[sizeof(kMagic)];
  for (uint64_t done = 0; done < size - 4;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(chunk.size(), size - 4 - done));
    ENGINE_CHECK(std::fread(chunk.data(), 1, n, f) == n, "checkpoint ", path, ": read error at byte ", done);
    if (done == 0) std::memcpy(magic, chunk.data(), sizeof(kMagic));
    crc = crc32_z(crc, reinterpret_cast<const Bytef*>(chunk.data()), n);
    done += n;
  }
  ENGINE_CHECK(std::memcmp(magic, kMagic, sizeof(kMagic)) == 0, "checkpoint ", path,
               ": bad magic; expected a file starting with RIGLCKPT (not a checkpoint of this trainer)");
  uint32_t stored_crc;
  ENGINE_CHECK(std::fread(&stored_crc, 4, 1, f) == 1, "checkpoint ", path, ": cannot read the checksum");
  ENGINE_CHECK(static_cast<uint32_t>(crc) == stored_crc, "checkpoint ", path, ": checksum mismatch (stored 0x",
               std::hex, stored_crc, ", computed 0x", static_cast<uint32_t>(crc), std::dec,
               "); the file is corrupt or truncated: refusing to resume from it");
  // Parse the header and the blob table; blob contents are skipped and read later by Floats/Int64s/Int32s.
  uint64_t pos = sizeof(kMagic);
  const uint64_t end = size - 4;
  ENGINE_CHECK(fseeko(f, static_cast<off_t>(pos), SEEK_SET) == 0, "checkpoint ", path, ": cannot seek");
  auto need = [&](uint64_t n, const std::string& what) {
    ENGINE_CHECK(n <= end - pos, "checkpoint ", path, ": truncated while reading ", what);
  };
  auto read = [&](void* out, uint64_t n, const std::string& what) {
    need(n, what);
    ENGINE_CHECK(std::fread(out, 1, n, f) == n, "checkpoint ", path, ": read error in ", what);
    pos += n;
  };
  uint32_t version;
  read(&version, 4, "the version");
  ENGINE_CHECK(version == kFormatVersion, "checkpoint ", path, ": format version ", version, "; expected ",
               kFormatVersion);
  uint64_t meta_len;
  read(&meta_len, 8, "the header length");
  need(meta_len, "the header");
  std::string meta(meta_len, '\0');
  read(meta.data(), meta_len, "the header");
  meta_ = nlohmann::json::parse(meta, nullptr, /*allow_exceptions=*/false);
  ENGINE_CHECK(!meta_.is_discarded(), "checkpoint ", path, ": the JSON header does not parse");
  uint64_t count;
  read(&count, 8, "the blob count");
  for (uint64_t b = 0; b < count; ++b) {
    uint32_t name_len;
    read(&name_len, 4, "a blob name length");
    need(name_len, "a blob name");
    std::string name(name_len, '\0');
    read(name.data(), name_len, "a blob name");
    Blob blob;
    read(&blob.type, 1, "the type of blob " + name);
    ENGINE_CHECK(blob.type == kFloat || blob.type == kInt64 || blob.type == kInt32, "checkpoint ", path, ": blob ",
                 name, " has unknown type ", int{blob.type});
    read(&blob.count, 8, "the length of blob " + name);
    const uint64_t elem = ElementBytes(blob.type);
    ENGINE_CHECK(blob.count <= (end - pos) / elem, "checkpoint ", path, ": truncated while reading blob ", name);
    blob.offset = pos;
    pos += blob.count * elem;
    ENGINE_CHECK(fseeko(f, static_cast<off_t>(pos), SEEK_SET) == 0, "checkpoint ", path, ": cannot seek");
    blobs_[name] = blob;
  }
  ENGINE_CHECK(pos == end, "checkpoint ", path, ": ", end - pos, " unexpected trailing bytes");
}

const CheckpointReader::Blob& CheckpointReader::Get(const std::string& name, uint8_t type,
                                                    int64_t expected_count) const {
  const auto it = blobs_.find(name);
  ENGINE_CHECK(it != blobs_.end(), "checkpoint ", path_, ": no entry '", name,
               "' (saved by a different model or method?)");
  ENGINE_CHECK(it->second.type == type, "checkpoint ", path_, ": entry '", name, "' is ", TypeName(it->second.type),
               "; expected ", TypeName(type));
  const int64_t count = static_cast<int64_t>(it->second.count);
  ENGINE_CHECK(expected_count < 0 || count == expected_count, "checkpoint ", path_, ": entry '", name, "' has ", count,
               " elements; expected ", expected_count, " (saved by a different model?)");
  return it->second;
}

template <typename T>
std::vector<T> CheckpointReader::Read(const std::string& name, uint8_t type, int64_t expected_count) const {
  const Blob& blob = Get(name, type, expected_count);
  std::vector<T> out(blob.count);
  std::FILE* f = file_.get();
  ENGINE_CHECK(fseeko(f, static_cast<off_t>(blob.offset), SEEK_SET) == 0 &&
                   std::fread(out.data(), sizeof(T), out.size(), f) == out.size(),
               "checkpoint ", path_, ": read error in entry '", name, "'");
  return out;
}

std::vector<float> CheckpointReader::Floats(const std::string& name, int64_t expected_count) const {
  return Read<float>(name, kFloat, expected_count);
}
std::vector<int64_t> CheckpointReader::Int64s(const std::string& name, int64_t expected_count) const {
  return Read<int64_t>(name, kInt64, expected_count);
}
std::vector<int32_t> CheckpointReader::Int32s(const std::string& name, int64_t expected_count) const {
  return Read<int32_t>(name, kInt32, expected_count);
}

}  // namespace rigl
