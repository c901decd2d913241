// Test-only writer for small IDX files (plain or gzip'd with zlib) in the test's temporary directory.
// It shares no code with engine/data/idx_reader: headers are assembled byte by byte here.
#ifndef TESTS_ENGINE_DATA_IDX_TEST_FILES_H_
#define TESTS_ENGINE_DATA_IDX_TEST_FILES_H_

#include <cstdint>
#include <string>
#include <vector>

namespace testutil {

// A fresh directory under $TEST_TMPDIR (or /tmp) named after `name`; created if missing.
std::string TempDir(const std::string& name);

// Magic (big-endian), one big-endian uint32 per dim, then `payload` as is (its size need not match dims).
std::vector<uint8_t> IdxBytes(uint32_t magic, const std::vector<uint32_t>& dims, const std::vector<uint8_t>& payload);

// Writes `bytes` to `path`, gzip-compressed when `gzip` is true.
void WriteBytes(const std::string& path, const std::vector<uint8_t>& bytes, bool gzip);

}  // namespace testutil

#endif  // TESTS_ENGINE_DATA_IDX_TEST_FILES_H_
