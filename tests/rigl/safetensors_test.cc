// Tests //rigl:safetensors: the writer's layout (alignment, determinism), typed reads, and one row per malformed file
// the reader must refuse, each with the words of its message.
#include "rigl/safetensors.h"

#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/base/check.h"
#include "tests/rigl/run_fixture.h"

namespace rigl {
namespace {

std::string Path(const std::string& name) { return testutil::TempDir("safetensors_test") + "/" + name; }

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A file: the 8-byte little-endian length of `header`, the header, then `data` bytes of zeros.
std::string File(const std::string& header, size_t data = 0) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((header.size() >> (8 * i)) & 0xFF);
  return out + header + std::string(data, '\0');
}

// The message of the engine::Error that reading `path` raises ("" when it reads fine).
std::string ReadError(const std::string& path) {
  try {
    const SafetensorsReader r(path);
    return "";
  } catch (const engine::Error& e) {
    return e.what();
  }
}

TEST(SafetensorsWriter, RoundTripsEveryTypedReadAndAlignsEachTensor) {
  const std::vector<float> f32 = {1.5f, -2.0f, 0.0f, 3.25f, 1e-30f, -7.0f};
  const std::vector<int64_t> i64 = {0, 3, 1LL << 40, -5};
  const std::vector<int32_t> i32 = {7, -1, 2147483647};
  const std::vector<double> f64 = {0.1, 1e300};
  const float scalar = 42.0f;
  SafetensorsWriter w;
  w.Add("odd.i32", Dtype::kI32, {3}, i32.data());  // 12 bytes: would misalign the 8-byte tensors after it
  w.Add("a.f32", Dtype::kF32, {2, 3}, f32.data());
  w.Add("b.i64", Dtype::kI64, {4}, i64.data());
  w.Add("c.f64", Dtype::kF64, {2}, f64.data());
  w.Add("scalar", Dtype::kF32, {}, &scalar);
  w.Add("empty", Dtype::kI64, {0}, nullptr);
  w.SetMetadata("model", "mlp");
  w.SetMetadata("note", "quotes \" and \\ survive");
  const std::string path = Path("roundtrip.safetensors");
  w.Write(path);
  const std::string bytes = testutil::ReadFile(path);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ((8 + n) % 8, 0u) << "the data must start 8-byte aligned";
  EXPECT_EQ(bytes.substr(0, 8 + n), w.Header());

  const SafetensorsReader r(path);
  EXPECT_EQ(r.metadata().at("model"), "mlp");
  EXPECT_EQ(r.metadata().at("note"), "quotes \" and \\ survive");
  EXPECT_EQ(r.tensors().size(), 6u);
  for (const auto& [name, info] : r.tensors()) {
    EXPECT_EQ(info.begin % DtypeBytes(info.dtype), 0u) << name << " is not aligned to its element size";
  }
  EXPECT_EQ(r.Get("a.f32").shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(r.ReadFloats("a.f32"), f32);
  EXPECT_EQ(r.ReadInt64s("b.i64"), i64);
  EXPECT_EQ(r.ReadInt64s("odd.i32"), (std::vector<int64_t>{7, -1, 2147483647}));
  const std::vector<float> narrowed = r.ReadFloats("c.f64");
  EXPECT_EQ(narrowed[0], 0.1f);
  EXPECT_TRUE(std::isinf(narrowed[1])) << "a double beyond float's range becomes inf, not undefined behaviour";
  EXPECT_EQ(r.Get("scalar").elements, 1);
  EXPECT_EQ(r.ReadFloats("scalar"), std::vector<float>{42.0f});
  EXPECT_TRUE(r.ReadInt64s("empty").empty());

  // The same tensors added in another order give the same bytes.
  SafetensorsWriter w2;
  w2.SetMetadata("note", "quotes \" and \\ survive");
  w2.Add("empty", Dtype::kI64, {0}, nullptr);
  w2.Add("scalar", Dtype::kF32, {}, &scalar);
  w2.Add("c.f64", Dtype::kF64, {2}, f64.data());
  w2.Add("b.i64", Dtype::kI64, {4}, i64.data());
  w2.Add("a.f32", Dtype::kF32, {2, 3}, f32.data());
  w2.Add("odd.i32", Dtype::kI32, {3}, i32.data());
  w2.SetMetadata("model", "mlp");
  w2.Write(Path("roundtrip2.safetensors"));
  EXPECT_EQ(testutil::ReadFile(Path("roundtrip2.safetensors")), bytes);
  EXPECT_FALSE(std::ifstream(path + ".tmp").good()) << "the temporary file must be renamed away";
}

TEST(SafetensorsReader, TypedReadsRefuseOtherDtypes) {
  const std::vector<int64_t> i64 = {1, 2};
  const std::vector<uint8_t> u8 = {1, 2};
  SafetensorsWriter w;
  w.Add("ints", Dtype::kI64, {2}, i64.data());
  w.Add("bytes", Dtype::kU8, {2}, u8.data());
  w.Write(Path("typed.safetensors"));
  const SafetensorsReader r(Path("typed.safetensors"));
  EXPECT_EQ(r.ReadBytes("bytes"), u8);
  try {
    r.ReadFloats("ints");
    ADD_FAILURE() << "I64 read as floats";
  } catch (const engine::Error& e) {
    EXPECT_NE(std::string(e.what()).find("tensor 'ints' is I64; expected F32 or F64"), std::string::npos) << e.what();
  }
  try {
    r.ReadInt64s("bytes");
    ADD_FAILURE() << "U8 read as int64";
  } catch (const engine::Error& e) {
    EXPECT_NE(std::string(e.what()).find("tensor 'bytes' is U8; expected I64 or I32"), std::string::npos) << e.what();
  }
  EXPECT_THROW(r.Get("missing"), engine::Error);
}

TEST(SafetensorsWriter, RefusesBadTensors) {
  const float v = 0;
  SafetensorsWriter w;
  w.Add("x", Dtype::kF32, {1}, &v);
  EXPECT_THROW(w.Add("x", Dtype::kF32, {1}, &v), engine::Error);             // twice
  EXPECT_THROW(w.Add("__metadata__", Dtype::kF32, {1}, &v), engine::Error);  // reserved
  EXPECT_THROW(w.Add("", Dtype::kF32, {1}, &v), engine::Error);
  EXPECT_THROW(w.Add("neg", Dtype::kF32, {-1}, &v), engine::Error);
  EXPECT_THROW(w.Add("huge", Dtype::kF64, {int64_t{1} << 61}, &v), engine::Error);  // 2^64 bytes
  EXPECT_THROW(w.Add("null", Dtype::kF32, {1}, nullptr), engine::Error);
}

struct Malformed {
  const char* why;
  std::string bytes;
  const char* message;  // a part of the refusal
};

// One tensor "t" of dtype F32 and 2 elements, at `offsets`, in a header with `extra` members.
std::string Entry(const std::string& body) { return "{\"t\":{" + body + "}}"; }

const std::vector<Malformed>& Cases() {
  static const std::vector<Malformed> kCases = {
      {"shorter than the length field", std::string(4, '\0'), "expected at least 8 (the header length)"},
      {"header length 1000 in a 20-byte file", [] {
         std::string f = File(std::string(12, ' '));
         f[0] = static_cast<char>(1000 & 0xFF);
         f[1] = static_cast<char>(1000 >> 8);
         return f;
       }(),
       "header length 1000 is beyond the file (20 bytes, so at most 12 header bytes)"},
      {"header length 2^63", [] {
         std::string f = File("{}");
         f[7] = static_cast<char>(0x80);
         return f;
       }(),
       "is beyond the file"},
      {"empty header", File(""), "expected at least 2"},
      {"not an object", File("[1, 2]  "), "expected '{' (a JSON object)"},
      {"not JSON", File("{\"t\": "), "not valid JSON"},
      {"trailing garbage after the JSON", File("{} x"), "not valid JSON"},
      {"the same tensor name twice",
       File("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
            "\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
            8),
       "the key 't' twice"},
      {"a key twice inside an entry",
       File(Entry("\"dtype\":\"F32\",\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,4]"), 4), "the key 'dtype' twice"},
      {"unknown dtype", File(Entry("\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,16]"), 16),
       "tensor 't': unknown dtype 'F128'; expected one of BOOL | U8"},
      {"dtype not a string", File(Entry("\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]"), 4),
       "dtype is a JSON number; expected a string"},
      {"negative dimension", File(Entry("\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]"), 4),
       "shape holds -1; expected integers >= 0"},
      {"fractional dimension", File(Entry("\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]"), 4),
       "shape holds 1.5; expected integers >= 0"},
      {"shape product overflows", File(Entry("\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]"), 4),
       "shape [4294967296, 4294967296] of F32 overflows"},
      {"byte size overflows", File(Entry("\"dtype\":\"F64\",\"shape\":[2305843009213693952],\"data_offsets\":[0,8]"), 8),
       "shape [2305843009213693952] of F64 overflows"},
      {"shape not an array", File(Entry("\"dtype\":\"F32\",\"shape\":3,\"data_offsets\":[0,4]"), 4),
       "shape is a JSON number; expected an array"},
      {"one offset", File(Entry("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]"), 4),
       "data_offsets is [0]; expected [begin, end]"},
      {"negative offset", File(Entry("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]"), 4),
       "expected [begin, end], two integers >= 0"},
      {"begin after end", File(Entry("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]"), 8),
       "data_offsets [8, 4]; expected begin <= end"},
      {"offsets beyond the data", File(Entry("\"dtype\":\"F32\",\"shape\":[100],\"data_offsets\":[0,400]"), 16),
       "data_offsets [0, 400] end beyond the data section (16 bytes)"},
      {"offsets beyond the data at 2^64 - 1",
       File(Entry("\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[18446744073709551614,18446744073709551615]"), 4),
       "end beyond the data section"},
      {"offsets disagree with the shape", File(Entry("\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,12]"), 12),
       "hold 12 bytes; dtype F32 and shape [2] need 8"},
      {"overlapping tensors",
       File("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
            12),
       "tensors 'a' [0, 8) and 'b' [4, 12) overlap"},
      {"the same bytes for two tensors",
       File("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            "\"b\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
            8),
       "overlap"},
      {"a hole between tensors",
       File("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
            "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
            12),
       "bytes [4, 8) of the data section belong to no tensor"},
      {"trailing data bytes", File(Entry("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]"), 8),
       "the data section has 8 bytes but the tensors end at byte 4"},
      {"metadata value not a string", File("{\"__metadata__\":{\"step\":3}}"),
       "__metadata__ entry 'step' is a JSON number; expected a string"},
      {"metadata not an object", File("{\"__metadata__\":[\"a\"]}"), "__metadata__ is a JSON array"},
      {"unknown key in an entry",
       File(Entry("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1"), 4),
       "tensor 't': unknown key 'extra'"},
      {"missing data_offsets", File(Entry("\"dtype\":\"F32\",\"shape\":[1]"), 4), "tensor 't': no 'data_offsets'"},
      {"entry not an object", File("{\"t\":5}"), "tensor 't': a JSON number; expected an object"},
      {"nested shape", File(Entry("\"dtype\":\"F32\",\"shape\":[[1]],\"data_offsets\":[0,4]"), 4),
       "nests deeper than 3 levels"},
      {"empty tensor name", File("{\"\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
       "a tensor has the empty name"},
  };
  return kCases;
}

class SafetensorsMalformed : public ::testing::TestWithParam<size_t> {};

TEST_P(SafetensorsMalformed, IsRefusedWithItsMessage) {
  const Malformed& c = Cases()[GetParam()];
  const std::string path = Path("malformed_" + std::to_string(GetParam()) + ".safetensors");
  WriteAll(path, c.bytes);
  const std::string message = ReadError(path);
  EXPECT_NE(message.find(c.message), std::string::npos) << c.why << ": got '" << message << "'";
  EXPECT_NE(message.find(path), std::string::npos) << c.why << ": the message must name the file: " << message;
}

INSTANTIATE_TEST_SUITE_P(Cases, SafetensorsMalformed, ::testing::Range<size_t>(0, Cases().size()));

TEST(SafetensorsReader, HeaderLengthOverTheCapIsRefusedBeforeAllocating) {
  // A sparse 101 MiB file whose header claims 100 MiB + 1: within the file, over the cap.
  const std::string path = Path("huge_header.safetensors");
  std::string f = File("{}");
  const uint64_t n = kMaxSafetensorsHeaderBytes + 1;
  for (int i = 0; i < 8; ++i) f[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  WriteAll(path, f);
  ASSERT_EQ(truncate(path.c_str(), static_cast<off_t>(kMaxSafetensorsHeaderBytes + (1 << 20))), 0);
  EXPECT_NE(ReadError(path).find("expected at most 104857600 bytes"), std::string::npos) << ReadError(path);
}

TEST(SafetensorsReader, MissingFileAndDirectoryAreRefused) {
  EXPECT_NE(ReadError(Path("no_such.safetensors")).find("not found or not a regular file"), std::string::npos);
  EXPECT_NE(ReadError(testutil::TempDir("safetensors_test")).find("not a regular file"), std::string::npos);
}

TEST(SafetensorsReader, AcceptsAnEmptyHeaderAndZeroSizedTensors) {
  const std::string path = Path("minimal.safetensors");
  WriteAll(path, File("{}      "));
  EXPECT_EQ(ReadError(path), "");
  WriteAll(path, File("{\"z\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[0,0]},"
                      "\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}",
                      2));
  EXPECT_EQ(ReadError(path), "");
}

}  // namespace
}  // namespace rigl
