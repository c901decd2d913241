// Reader for IDX files (the MNIST / Fashion-MNIST / KMNIST container), gzip-compressed or plain, via zlib.
// It checks the header and the payload size exactly and returns raw bytes; it does not convert to float or
// pair images with labels (that is dataset.h). Only unsigned-byte payloads (type code 0x08) are supported.
#ifndef ENGINE_DATA_IDX_READER_H_
#define ENGINE_DATA_IDX_READER_H_

#include <cstdint>
#include <string>
#include <vector>

namespace engine::data {

// Magic numbers (big-endian in the file): 0x0000 | type 0x08 (unsigned byte) | rank.
inline constexpr uint32_t kIdxImagesMagic = 0x00000803;  // [count, rows, cols]
inline constexpr uint32_t kIdxLabelsMagic = 0x00000801;  // [count]

// The content of one IDX file. `data` has exactly product(dims) bytes, row-major over `dims`.
struct IdxArray {
  std::string path;
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;
};

// Reads `path` (gzip or plain; zlib detects which). Checks, each with an error naming `path`:
//   the magic number equals `expected_magic` (both printed in hex); the rank is (expected_magic & 0xff);
//   every dimension is > 0; the payload has exactly product(dims) bytes (truncated: expected and got bytes;
//   trailing bytes after the payload are an error too); the gzip stream is not corrupt.
IdxArray ReadIdx(const std::string& path, uint32_t expected_magic);

// An images file: magic 0x00000803, dims [count, rows, cols].
IdxArray ReadIdxImages(const std::string& path);

// A labels file: magic 0x00000801, dims [count], and every label in [0, num_classes) (num_classes > 0).
IdxArray ReadIdxLabels(const std::string& path, int num_classes);

// Formats a 32-bit value as 0x%08x (used in magic-number messages).
std::string Hex32(uint32_t value);

}  // namespace engine::data

#endif  // ENGINE_DATA_IDX_READER_H_
