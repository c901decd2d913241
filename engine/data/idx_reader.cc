// IDX reading through zlib's gz* API, which reads gzip and plain files alike.
#include "engine/data/idx_reader.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>

#include "engine/base/check.h"

namespace engine::data {
namespace {

// Owns a gzFile so every error path closes it.
class GzReader {
 public:
  explicit GzReader(const std::string& path) : path_(path), file_(gzopen(path.c_str(), "rb")) {
    ENGINE_CHECK(file_ != nullptr, "IDX file ", path, ": cannot open for reading; expected a readable file");
    gzbuffer(file_, 1 << 18);  // larger buffer than the 8 KiB default: fewer read() calls
  }

  // zlib's gzread ends quietly at the end of a gzip stream and ignores whatever follows it, so bytes appended to a
  // gzip file would go unnoticed. A single-member gzip file ends with the CRC-32 and the length (mod 2^32) of
  // everything it decompressed to: both must match what was read, or something follows the stream (or the file
  // holds several streams, which this reader does not accept either). Plain files need no check: every byte of
  // theirs was read.
  void CheckGzipTrailer(int64_t decompressed_bytes) {
    if (gzdirect(file_)) return;
    std::FILE* raw = std::fopen(path_.c_str(), "rb");
    ENGINE_CHECK(raw != nullptr, "IDX file ", path_, ": cannot reopen to check the gzip trailer");
    uint8_t t[8] = {0};
    const bool read = std::fseek(raw, -8, SEEK_END) == 0 && std::fread(t, 1, 8, raw) == 8;
    std::fclose(raw);
    const uint32_t crc = uint32_t{t[0]} | uint32_t{t[1]} << 8 | uint32_t{t[2]} << 16 | uint32_t{t[3]} << 24;
    const uint32_t size = uint32_t{t[4]} | uint32_t{t[5]} << 8 | uint32_t{t[6]} << 16 | uint32_t{t[7]} << 24;
    ENGINE_CHECK(read && crc == static_cast<uint32_t>(crc_) && size == static_cast<uint32_t>(decompressed_bytes),
                 "IDX file ", path_, ": the last 8 bytes are not the trailer of the gzip stream that was read (",
                 "bytes follow the stream, or the file holds several streams); expected one gzip stream ending "
                 "the file");
  }
  ~GzReader() { gzclose(file_); }
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;

  // Reads up to `n` bytes; returns the count read (short only at end of file). Throws on a zlib error.
  int64_t Read(uint8_t* out, int64_t n) {
    int64_t total = 0;
    while (total < n) {
      const unsigned chunk = static_cast<unsigned>(std::min<int64_t>(n - total, int64_t{1} << 30));
      const int got = gzread(file_, out + total, chunk);
      if (got < 0) ThrowZlibError(total);
      if (got == 0) break;
      crc_ = crc32_z(crc_, out + total, static_cast<size_t>(got));
      total += got;
    }
    if (total < n) CheckNoError(total);
    return total;
  }

 private:
  void CheckNoError(int64_t read_so_far) {
    int code = Z_OK;
    gzerror(file_, &code);
    if (code != Z_OK && code != Z_STREAM_END) ThrowZlibError(read_so_far);
  }
  [[noreturn]] void ThrowZlibError(int64_t read_so_far) {
    int code = Z_OK;
    const char* message = gzerror(file_, &code);
    ENGINE_CHECK(false, "IDX file ", path_, ": zlib error after ", read_so_far, " bytes of this read: ",
                 message ? message : "(no message)", " (code ", code,
                 "); expected an intact gzip stream or a plain file");
    __builtin_unreachable();
  }

  std::string path_;
  gzFile file_;
  uLong crc_ = crc32(0L, Z_NULL, 0);  // of every byte returned so far
};

uint32_t BigEndian32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

}  // namespace

std::string Hex32(uint32_t value) {
  char buffer[16];
  std::snprintf(buffer, sizeof(buffer), "0x%08x", value);
  return buffer;
}

IdxArray ReadIdx(const std::string& path, uint32_t expected_magic) {
  GzReader reader(path);
  IdxArray out;
  out.path = path;

  // --- header: magic, then one big-endian uint32 per dimension ---
  uint8_t word[4];
  const int64_t magic_bytes = reader.Read(word, 4);
  ENGINE_CHECK(magic_bytes == 4, "IDX file ", path, ": header truncated (got ", magic_bytes,
               " bytes); expected at least a 4-byte magic number");
  const uint32_t magic = BigEndian32(word);
  ENGINE_CHECK(magic == expected_magic, "IDX file ", path, ": magic number ", Hex32(magic), " found; expected ",
               Hex32(expected_magic), " (", (expected_magic == kIdxImagesMagic   ? "unsigned-byte images, rank 3"
                                             : expected_magic == kIdxLabelsMagic ? "unsigned-byte labels, rank 1"
                                                                                 : "IDX"),
               ")");
  const int rank = static_cast<int>(expected_magic & 0xff);
  ENGINE_CHECK(rank >= 1, "IDX file ", path, ": rank ", rank, " in magic ", Hex32(expected_magic),
               "; expected rank >= 1");

  // The payload size is checked against the cap before each multiplication, so no product can overflow.
  constexpr int64_t kMaxPayload = int64_t{1} << 40;
  int64_t payload = 1;
  std::string declared;
  for (int d = 0; d < rank; ++d) {
    const int64_t got = reader.Read(word, 4);
    ENGINE_CHECK(got == 4, "IDX file ", path, ": header truncated in dimension ", d, " of ", rank,
                 "; expected ", 4 + 4 * rank, " header bytes");
    const int64_t size = BigEndian32(word);
    ENGINE_CHECK(size > 0, "IDX file ", path, ": dimension ", d, " is ", size, "; expected a positive size");
    out.dims.push_back(size);
    declared += (d ? " x " : "") + std::to_string(size);
    ENGINE_CHECK(size <= kMaxPayload / payload, "IDX file ", path, ": dims ", declared,
                 (d + 1 < rank ? " ..." : ""), " declare more than 2^40 bytes; expected a plausible dataset size");
    payload *= size;
  }

  // --- payload: grow the buffer as bytes arrive (from 1 MiB, doubling), so a lying header cannot force a huge
  // allocation, nor a large zeroed one before any data has arrived ---
  int64_t filled = 0;
  out.data.resize(static_cast<size_t>(std::min<int64_t>(payload, int64_t{1} << 20)));
  while (filled < payload) {
    if (filled == static_cast<int64_t>(out.data.size())) {
      out.data.resize(static_cast<size_t>(std::min<int64_t>(payload, 2 * filled)));
    }
    const int64_t want = static_cast<int64_t>(out.data.size()) - filled;
    const int64_t got = reader.Read(out.data.data() + filled, want);
    filled += got;
    if (got < want) break;
  }
  std::string dims_text;
  for (size_t d = 0; d < out.dims.size(); ++d) dims_text += (d ? " x " : "") + std::to_string(out.dims[d]);
  ENGINE_CHECK(filled == payload, "IDX file ", path, ": data truncated: got ", filled, " bytes; expected ",
               payload, " bytes (dims ", dims_text, ")");

  // --- nothing may follow the payload ---
  uint8_t tail[4096];
  int64_t trailing = 0;
  for (int64_t got; (got = reader.Read(tail, sizeof(tail))) > 0;) trailing += got;
  ENGINE_CHECK(trailing == 0, "IDX file ", path, ": ", trailing, " trailing bytes after the ", payload,
               "-byte payload (dims ", dims_text, "); expected the file to end there");
  reader.CheckGzipTrailer(4 + 4 * static_cast<int64_t>(rank) + payload);
  return out;
}

IdxArray ReadIdxImages(const std::string& path) { return ReadIdx(path, kIdxImagesMagic); }

IdxArray ReadIdxLabels(const std::string& path, int num_classes) {
  ENGINE_CHECK(num_classes > 0 && num_classes <= 256, "ReadIdxLabels(", path, "): num_classes = ", num_classes,
               "; expected 1..256");
  IdxArray labels = ReadIdx(path, kIdxLabelsMagic);
  for (size_t i = 0; i < labels.data.size(); ++i) {
    ENGINE_CHECK(labels.data[i] < num_classes, "IDX file ", path, ": label ", int{labels.data[i]}, " at index ", i,
                 "; expected 0 <= label < num_classes = ", num_classes);
  }
  return labels;
}

}  // namespace engine::data
