// Fuzz target: the trainer's flag handling (rigl/config) on arbitrary argument lists (the input split at newlines).
// The property: once rigl::CheckFlagSyntax accepts an argument list, gflags parses it without exiting (it would exit
// 1 with its own message, bypassing the trainer's exit code 2), and ConfigFromFlags either accepts the values or
// throws engine::Error; nothing crashes. Flags that read files or the environment are left out.
#include <gflags/gflags.h>

#include <cstdint>
#include <string>
#include <vector>

#include "engine/base/check.h"
#include "rigl/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args = {"trainer"};
  std::string token;
  for (size_t i = 0; i <= size; ++i) {
    if (i == size || data[i] == '\n') {
      if (!token.empty()) args.push_back(token);
      token.clear();
    } else if (data[i] != '\0') {
      token += static_cast<char>(data[i]);
    }
  }
  for (const std::string& a : args) {
    for (const char* skip : {"flagfile", "fromenv", "tryfromenv", "undefok", "help", "version"}) {
      if (a.find(skip) != std::string::npos) return 0;
    }
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(args.size());
  try {
    rigl::CheckFlagSyntax(argc, argv.data());
  } catch (const engine::Error&) {
    return 0;
  }
  gflags::FlagSaver restore_flags_afterwards;
  char** argvp = argv.data();
  gflags::ParseCommandLineNonHelpFlags(&argc, &argvp, /*remove_flags=*/true);
  try {
    rigl::ConfigFromFlags();
  } catch (const engine::Error&) {
  }
  return 0;
}
