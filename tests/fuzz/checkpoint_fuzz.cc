// Fuzz target: the checkpoint reader (rigl/checkpoint) on arbitrary bytes. When the first input byte is odd, the rest
// gets a correct CRC-32 appended, so the fuzzer gets past the checksum to the header and blob-table checks; when it
// is even, the rest is the file as is. Every blob is then read back with each element type.
#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

#include "engine/base/check.h"
#include "rigl/checkpoint.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::vector<uint8_t> file(data + 1, data + size);
  if (data[0] & 1) {
    const uint32_t crc = static_cast<uint32_t>(crc32_z(crc32(0L, Z_NULL, 0), file.data(), file.size()));
    const uint8_t* c = reinterpret_cast<const uint8_t*>(&crc);
    file.insert(file.end(), c, c + 4);
  }
  const std::string path = fuzz::WriteInput("checkpoint_fuzz", file.data(), file.size());
  try {
    const rigl::CheckpointReader reader(path);
    for (const std::string& name : reader.Names()) {
      try {
        reader.Floats(name);
      } catch (const engine::Error&) {
      }
      try {
        reader.Int64s(name);
      } catch (const engine::Error&) {
      }
      try {
        reader.Int32s(name);
      } catch (const engine::Error&) {
      }
    }
  } catch (const engine::Error&) {
  }
  return 0;
}
