// Test-only: reads a trainer checkpoint into its parts, lets a test change any of them, and writes it back with a
// correct CRC-32, so tests (and the checkpoint fuzzer) reach the content checks behind the checksum. It shares no
// code with rigl/checkpoint.cc: the format is parsed here from its description in that file's header.
#ifndef TESTS_RIGL_CHECKPOINT_SURGERY_H_
#define TESTS_RIGL_CHECKPOINT_SURGERY_H_

#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace testutil {

struct CheckpointParts {
  uint32_t version = 0;
  std::string meta;  // the JSON header text
  struct Blob {
    std::string name;
    uint8_t type = 0;
    uint64_t count = 0;
    std::vector<uint8_t> bytes;
  };
  std::vector<Blob> blobs;

  Blob* Find(const std::string& name) {
    for (Blob& b : blobs) {
      if (b.name == name) return &b;
    }
    return nullptr;
  }
};

inline std::vector<uint8_t> ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Parses a well-formed checkpoint (throws std::runtime_error otherwise; the CRC is not checked).
inline CheckpointParts ParseCheckpoint(const std::vector<uint8_t>& file) {
  CheckpointParts parts;
  size_t pos = 8;
  auto take = [&](void* out, size_t n) {
    if (n > file.size() || pos > file.size() - n) throw std::runtime_error("checkpoint too short");
    std::memcpy(out, file.data() + pos, n);
    pos += n;
  };
  uint64_t meta_len = 0, count = 0;
  take(&parts.version, 4);
  take(&meta_len, 8);
  parts.meta.resize(meta_len);
  take(parts.meta.data(), meta_len);
  take(&count, 8);
  for (uint64_t b = 0; b < count; ++b) {
    CheckpointParts::Blob blob;
    uint32_t name_len = 0;
    take(&name_len, 4);
    blob.name.resize(name_len);
    take(blob.name.data(), name_len);
    take(&blob.type, 1);
    take(&blob.count, 8);
    blob.bytes.resize(blob.count * (blob.type == 2 ? 8 : 4));
    take(blob.bytes.data(), blob.bytes.size());
    parts.blobs.push_back(std::move(blob));
  }
  return parts;
}

// The file bytes of `parts`, ending with the CRC-32 of everything before it.
inline std::vector<uint8_t> SerializeCheckpoint(const CheckpointParts& parts) {
  std::vector<uint8_t> out = {'R', 'I', 'G', 'L', 'C', 'K', 'P', 'T'};
  auto put = [&](const void* data, size_t n) {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    out.insert(out.end(), p, p + n);
  };
  const uint64_t meta_len = parts.meta.size(), count = parts.blobs.size();
  put(&parts.version, 4);
  put(&meta_len, 8);
  put(parts.meta.data(), parts.meta.size());
  put(&count, 8);
  for (const CheckpointParts::Blob& b : parts.blobs) {
    const uint32_t name_len = static_cast<uint32_t>(b.name.size());
    put(&name_len, 4);
    put(b.name.data(), b.name.size());
    put(&b.type, 1);
    put(&b.count, 8);
    put(b.bytes.data(), b.bytes.size());
  }
  const uint32_t crc = static_cast<uint32_t>(crc32_z(crc32(0L, Z_NULL, 0), out.data(), out.size()));
  put(&crc, 4);
  return out;
}

inline std::string ReadFileText(const std::string& path) {
  const std::vector<uint8_t> bytes = ReadFileBytes(path);
  return std::string(bytes.begin(), bytes.end());
}

inline void WriteFileBytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace testutil

#endif  // TESTS_RIGL_CHECKPOINT_SURGERY_H_
