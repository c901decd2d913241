// Fuzz target: the IDX reader (engine/data/idx_reader) on arbitrary bytes, as an images file and as a labels file.
// Any engine::Error is a correct refusal; a crash, a sanitizer report, a hang or a large allocation is a finding.
#include <cstdint>
#include <string>

#include "engine/base/check.h"
#include "engine/data/idx_reader.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::WriteInput("idx_fuzz", data, size);
  try {
    engine::data::ReadIdxImages(path);
  } catch (const engine::Error&) {
  }
  try {
    engine::data::ReadIdxLabels(path, 10);
  } catch (const engine::Error&) {
  }
  return 0;
}
