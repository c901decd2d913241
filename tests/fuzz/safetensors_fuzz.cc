// Fuzz target: the safetensors reader (rigl/safetensors) on arbitrary bytes. When the header validates, every tensor
// is read back raw and through both typed reads. Any engine::Error is a correct refusal; a crash, a sanitizer report,
// a hang or an allocation beyond the input's size is a finding.
#include <cstdint>
#include <string>

#include "engine/base/check.h"
#include "rigl/safetensors.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::WriteInput("safetensors_fuzz", data, size);
  try {
    const rigl::SafetensorsReader reader(path);
    for (const auto& [name, info] : reader.tensors()) {
      if (reader.ReadBytes(name).size() != info.end - info.begin) __builtin_trap();  // the validated size is the read
      try {
        reader.ReadFloats(name);
      } catch (const engine::Error&) {
      }
      try {
        reader.ReadInt64s(name);
      } catch (const engine::Error&) {
      }
    }
  } catch (const engine::Error&) {
  }
  return 0;
}
