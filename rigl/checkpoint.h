// Checkpoint files: a JSON header (config, counters, schedule state) and named binary blobs (weights, CSR indices,
// optimizer slots, buffers), closed by a CRC-32 of everything before it. Streamed to `path.tmp`, flushed, then
// renamed over `path`, so a crash never leaves a half-written checkpoint. Reading verifies the whole file (streamed
// CRC) before anything is handed out (a corrupt or truncated file is refused with a message naming the path and the
// fault). Neither side holds a copy of the file in memory.
#ifndef RIGL_CHECKPOINT_H_
#define RIGL_CHECKPOINT_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace rigl {

// Blobs are written straight from the caller's arrays, which must stay alive and unchanged until Write() returns;
// the writer holds no copy (its memory is the JSON header and the blob list, whatever the model's size).
class CheckpointWriter {
 public:
  nlohmann::json& meta() { return meta_; }
  void AddFloats(const std::string& name, const float* data, int64_t count);
  void AddInt64s(const std::string& name, const int64_t* data, int64_t count);
  void AddInt32s(const std::string& name, const int32_t* data, int64_t count);
  // Writes path.tmp then renames it to path. Throws engine::Error naming the path on any I/O failure.
  void Write(const std::string& path) const;

 private:
  struct Blob {
    std::string name;
    uint8_t type;
    const void* data;
    int64_t count;
  };
  nlohmann::json meta_;
  std::vector<Blob> blobs_;
};

class CheckpointReader {
 public:
  // Verifies the file (magic, version, sizes, streamed CRC-32) and parses its header and blob table; throws
  // engine::Error naming the path otherwise. Blob contents stay on disk until asked for, so reading needs memory
  // for the header and the one blob being returned, not for the whole file. The file stays open until destruction.
  explicit CheckpointReader(const std::string& path);
  const nlohmann::json& meta() const { return meta_; }
  bool Has(const std::string& name) const { return blobs_.count(name) != 0; }
  // Every blob's name, sorted.
  std::vector<std::string> Names() const {
    std::vector<std::string> names;
    for (const auto& entry : blobs_) names.push_back(entry.first);
    return names;
  }
  // Typed access; throws naming the blob when it is missing or of another type or length (expected_count >= 0).
  std::vector<float> Floats(const std::string& name, int64_t expected_count = -1) const;
  std::vector<int64_t> Int64s(const std::string& name, int64_t expected_count = -1) const;
  std::vector<int32_t> Int32s(const std::string& name, int64_t expected_count = -1) const;

 private:
  struct Blob {
    uint8_t type = 0;
    uint64_t count = 0;   // elements
    uint64_t offset = 0;  // of the first element in the file
  };
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  const Blob& Get(const std::string& name, uint8_t type, int64_t expected_count) const;
  template <typename T>
  std::vector<T> Read(const std::string& name, uint8_t type, int64_t expected_count) const;
  std::string path_;
  std::unique_ptr<std::FILE, Closer> file_;
  nlohmann::json meta_;
  std::map<std::string, Blob> blobs_;
};

// Writes `text` to path.tmp and renames it over path (atomic replace).
void WriteFileAtomically(const std::string& path, const std::string& text);
// The same for the concatenation of `pieces` (data, bytes), in order, streamed from the caller's buffers: the file
// is never copied whole into memory (rigl/safetensors writes tensors straight from the model this way).
void WriteFileAtomically(const std::string& path, const std::vector<std::pair<const void*, size_t>>& pieces);

}  // namespace rigl

#endif  // RIGL_CHECKPOINT_H_
