// A main for the fuzz targets outside libFuzzer: runs LLVMFuzzerTestOneInput once on every file of the directories
// named on the command line (the seed corpora in tests/fuzz/corpus), so `bazel test //...` replays the corpora with
// the project's own compiler and every later change must still survive them. tools/fuzz.sh builds the same targets
// with clang's libFuzzer and sanitizers to search for new inputs.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  int files = 0;
  for (int i = 1; i < argc; ++i) {
    for (const auto& entry : std::filesystem::directory_iterator(argv[i])) {
      std::ifstream in(entry.path(), std::ios::binary);
      const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
      ++files;
    }
  }
  std::printf("replayed %d corpus files without a crash\n", files);
  return files > 0 ? 0 : 1;  // an empty corpus is a broken test, not a pass
}
