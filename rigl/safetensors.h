// The safetensors container (https://huggingface.co/docs/safetensors), written and read from scratch:
//   u64 N (little-endian) | N bytes of JSON header, padded with spaces so the data starts 8-byte aligned |
//   the data: every tensor's raw little-endian bytes, back to back.
// The header maps each tensor name to {"dtype": "F32", "shape": [300, 784], "data_offsets": [begin, end]} (byte
// offsets into the data, end exclusive) and may hold "__metadata__", an object of string values.
//
// The writer orders tensors by element size (largest first), then by name, so every tensor starts at a multiple of
// its element size, and its output depends only on what was added: the same tensors and metadata give the same
// bytes. The reader treats the file as hostile and validates all of the header before it hands anything out: the
// header length against the file (and a 100 MiB cap), the JSON (an object, no duplicate keys), each entry's keys,
// dtype, shape (product overflow) and offsets (in range, matching the shape), and that the tensors tile the data
// exactly, without overlaps or holes. Tensor bytes stay on disk until asked for, so no allocation exceeds the file.
// What the tensors mean (names, CSR parts, the metadata keys) is rigl/export's business, not this file's.
#ifndef RIGL_SAFETENSORS_H_
#define RIGL_SAFETENSORS_H_

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace rigl {

// Every dtype the format defines. The reader accepts them all in the header; typed access converts only the ones
// that make sense for it (ReadFloats: F32, F64; ReadInt64s: I32, I64).
enum class Dtype { kBool, kU8, kI8, kI16, kU16, kF16, kBF16, kI32, kU32, kF32, kF64, kI64, kU64 };

const char* DtypeName(Dtype dtype);    // "F32"
int64_t DtypeBytes(Dtype dtype);       // 4
// "BOOL | U8 | ... | U64", for messages.
std::string DtypeNameList();

// The header's longest accepted JSON (the reference implementation's limit).
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = uint64_t{100} << 20;

struct TensorInfo {
  Dtype dtype = Dtype::kF32;
  std::vector<int64_t> shape;
  int64_t elements = 0;  // product of shape (1 for a scalar, shape [])
  uint64_t begin = 0;    // byte offsets into the data section, end exclusive
  uint64_t end = 0;
};

// "[300, 784]".
std::string ShapeText(const std::vector<int64_t>& shape);

// Collects tensors (by pointer: the caller's arrays must stay alive and unchanged until Write returns) and metadata,
// then writes the file atomically (path.tmp, fsync, rename: rigl/checkpoint's WriteFileAtomically) without copying
// the tensor data.
class SafetensorsWriter {
 public:
  // Throws engine::Error when the name is empty, "__metadata__", or already added.
  void Add(const std::string& name, Dtype dtype, std::vector<int64_t> shape, const void* data);
  void SetMetadata(const std::string& key, const std::string& value) { metadata_[key] = value; }
  int64_t size() const { return static_cast<int64_t>(entries_.size()); }
  // The 8-byte length and the padded JSON header, exactly as Write puts them before the data.
  std::string Header() const;
  void Write(const std::string& path) const;

 private:
  struct Entry {
    std::string name;
    Dtype dtype;
    std::vector<int64_t> shape;
    const void* data;
    uint64_t bytes;
  };
  std::vector<const Entry*> Ordered() const;  // the order of the data section
  std::vector<Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

class SafetensorsReader {
 public:
  // Opens and validates the whole header (see the file comment). Throws engine::Error naming the path and the fault;
  // messages start with `context` (e.g. "--init_from=model.safetensors: "), by default "safetensors <path>: ".
  explicit SafetensorsReader(const std::string& path, const std::string& context = "");

  const std::string& path() const { return path_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  bool Has(const std::string& name) const { return tensors_.count(name) != 0; }
  // Throws naming the tensor when it is missing.
  const TensorInfo& Get(const std::string& name) const;
  // The tensor's raw bytes.
  std::vector<uint8_t> ReadBytes(const std::string& name) const;
  // Element by element as float (from F32, or F64 rounded to nearest) / int64 (from I64 or I32); other dtypes are
  // refused with a message naming the tensor, its dtype and the accepted ones.
  std::vector<float> ReadFloats(const std::string& name) const;
  std::vector<int64_t> ReadInt64s(const std::string& name) const;

 private:
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::string path_;
  std::string where_;  // the start of every message
  std::unique_ptr<std::FILE, Closer> file_;
  uint64_t data_start_ = 0;
  std::map<std::string, std::string> metadata_;
  std::map<std::string, TensorInfo> tensors_;
};

}  // namespace rigl

#endif  // RIGL_SAFETENSORS_H_
