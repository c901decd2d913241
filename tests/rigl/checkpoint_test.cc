// Checkpoint files: blobs round-trip bit for bit (empty ones included), the stored CRC-32 equals zlib's one-shot CRC
// of the bytes before it (so the streamed writer keeps the format), a flipped byte is refused, and a failed write
// leaves the previous file untouched.
#include "rigl/checkpoint.h"

#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/base/check.h"

namespace {

std::string TempPath(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  return std::string(base ? base : "/tmp") + "/" + name;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Writes a checkpoint holding one float entry `name` of `count` copies of `value`.
void WriteOneEntry(const std::string& path, const std::string& name, int64_t count, float value) {
  const std::vector<float> f(static_cast<size_t>(count), value);
  rigl::CheckpointWriter w;
  w.AddFloats(name, f.data(), count);
  w.Write(path);
}

TEST(Checkpoint, RoundTripIncludingEmptyBlobsAndOneShotCrc) {
  const std::string path = TempPath("round_trip.ckpt");
  const std::vector<float> f = {1.5f, -0.0f, 3e-39f, 7.0f};
  const std::vector<int64_t> big = {0, int64_t{1} << 40, -5};
  const std::vector<int32_t> small = {3, -2147483647 - 1};
  {
    rigl::CheckpointWriter w;
    w.meta()["step"] = 42;
    w.AddFloats("f", f.data(), 4);
    w.AddInt64s("empty", nullptr, 0);  // a blob with no elements, as an empty history has
    w.AddInt64s("big", big.data(), 3);
    w.AddInt32s("small", small.data(), 2);
    w.Write(path);
  }
  const rigl::CheckpointReader r(path);
  EXPECT_EQ(r.meta().at("step").get<int>(), 42);
  const std::vector<float> f2 = r.Floats("f", 4);
  EXPECT_EQ(std::memcmp(f2.data(), f.data(), sizeof(float) * 4), 0);  // bit for bit, -0 and the denormal included
  EXPECT_TRUE(r.Int64s("empty", 0).empty());
  EXPECT_EQ(r.Int64s("big", 3), big);
  EXPECT_EQ(r.Int32s("small", 2), small);
  EXPECT_THROW(r.Floats("big"), engine::Error);  // wrong type
  EXPECT_THROW(r.Floats("f", 5), engine::Error);  // wrong length

  const std::string bytes = ReadAll(path);
  ASSERT_GT(bytes.size(), 4u);
  uint32_t stored;
  std::memcpy(&stored, bytes.data() + bytes.size() - 4, 4);
  const uLong oracle = crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(bytes.data()), bytes.size() - 4);
  EXPECT_EQ(stored, static_cast<uint32_t>(oracle));
}

TEST(Checkpoint, FlippedByteIsRefused) {
  const std::string path = TempPath("flipped.ckpt");
  WriteOneEntry(path, "f", 100, 2.0f);
  std::string bytes = ReadAll(path);
  bytes[bytes.size() / 2] ^= 0x10;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  try {
    rigl::CheckpointReader r(path);
    ADD_FAILURE() << "a corrupt checkpoint was accepted";
  } catch (const engine::Error& e) {
    EXPECT_NE(std::string(e.what()).find("checksum mismatch"), std::string::npos) << e.what();
  }
}

TEST(Checkpoint, FailedWriteKeepsThePreviousFile) {
  const std::string path = TempPath("kept.ckpt");
  WriteOneEntry(path, "f", 10, 1.0f);
  const std::string before = ReadAll(path);
  // path.tmp is a directory: opening it for writing fails, and the old checkpoint must survive.
  std::error_code ec;
  ASSERT_TRUE(std::filesystem::create_directories(path + ".tmp", ec)) << ec.message();
  EXPECT_THROW(WriteOneEntry(path, "g", 10, 1.0f), engine::Error);
  EXPECT_EQ(ReadAll(path), before);
  std::filesystem::remove(path + ".tmp", ec);
}

}  // namespace
