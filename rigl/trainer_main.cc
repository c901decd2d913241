// `bazel run //:trainer -- [flags]`: the command-line entry point. The one place errors are caught: a bad flag
// exits with code 2, any other failure (missing data set, corrupt checkpoint, diverged training) with code 1,
// each with a message naming what was given and what was expected.
#include <cstdio>
#include <cstdlib>
#include <string>

#include <gflags/gflags.h>

#include "engine/base/check.h"
#include "rigl/config.h"
#include "rigl/trainer.h"

namespace {

// `bazel run` starts binaries in the runfiles tree; relative paths the user typed refer to where they ran bazel.
std::string ResolveUserPath(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");
  return cwd != nullptr ? std::string(cwd) + "/" + path : path;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "trains sparse (or dense) networks on Fashion-MNIST with RigL and its baselines.\n"
      "  bazel run //:trainer -- [--model=mlp|lenet5|wrn22_2] [--method=rigl|set|snfs|snip|static|pruning|"
      "small_dense|dense] [--sparsity=0.9] [--out_dir=runs/x] ...\n"
      "Flags are listed under rigl/config.cc below.");
  gflags::SetVersionString(rigl::kVersion);
  gflags::ParseCommandLineFlags(&argc, &argv, /*remove_flags=*/true);
  if (argc > 1) {
    std::fprintf(stderr, "trainer: unexpected argument '%s'; expected only --flags (see --help)\n", argv[1]);
    return 2;
  }
  rigl::TrainConfig config;
  try {
    config = rigl::ConfigFromFlags();
    config.data_dir = ResolveUserPath(config.data_dir);
    config.out_dir = ResolveUserPath(config.out_dir);
    config.resume = ResolveUserPath(config.resume);
  } catch (const engine::Error& e) {
    std::fprintf(stderr, "trainer: bad flag: %s\n", e.what());
    return 2;
  }
  try {
    if (config.flops_only) {
      rigl::PrintFlopsTable(config);
      return 0;
    }
    if (!config.out_dir.empty()) {
      const std::string cmd = "mkdir -p '" + config.out_dir + "'";
      if (std::system(cmd.c_str()) != 0) {
        std::fprintf(stderr, "trainer: cannot create --out_dir=%s\n", config.out_dir.c_str());
        return 1;
      }
    }
    rigl::Train(config);
    return 0;
  } catch (const engine::Error& e) {
    std::fprintf(stderr, "trainer: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "trainer: error: %s\n", e.what());
    return 1;
  }
}
