// The trainer's command line (see trainer_cli.h). The one place errors are caught: a bad flag exits with code 2, any
// other failure (missing data set, corrupt checkpoint, diverged training) with code 1, each with a message naming
// what was given and what was expected (and, data-parallel, which rank saw it).
#include "rigl/trainer_cli.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include <gflags/gflags.h>

#include "engine/base/check.h"
#include "rigl/config.h"
#include "rigl/plan.h"
#include "rigl/trainer.h"

namespace {

// `bazel run` starts binaries in the runfiles tree; relative paths the user typed refer to where they ran bazel.
std::string ResolveUserPath(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");
  return cwd != nullptr ? std::string(cwd) + "/" + path : path;
}

// A fresh run (no --resume) must not replace what an earlier run left in --out_dir unless --overwrite says so.
// Returns the first of the run's files found there, or "".
std::string ExistingRunFile(const std::string& out_dir) {
  for (const char* name : {"checkpoint.bin", "summary.json", "metrics.jsonl", "config.json"}) {
    std::error_code ec;
    const std::string path = out_dir + "/" + name;
    if (std::filesystem::exists(path, ec)) return path;
  }
  return "";
}

// What every rank must agree on: the saved settings and the run-control flags that change what the ranks do. Not
// --data_dir: each machine may keep the data elsewhere (the trainer compares the data itself across ranks).
nlohmann::json RankAgreedSettings(const rigl::TrainConfig& c) {
  nlohmann::json j = rigl::ConfigToJson(c);
  j.erase("data_dir");
  j["resume"] = c.resume;
  j["init_from"] = c.init_from;
  j["stop_after_steps"] = c.stop_after_steps;
  j["time_budget"] = c.time_budget;
  j["eval_every"] = c.eval_every;
  j["checkpoint_every"] = c.checkpoint_every;
  j["export_only"] = c.export_only;
  j["flops_only"] = c.flops_only;
  return j;
}

// Data-parallel: refuses flags that differ from rank 0's, naming the first setting that does.
void CheckRanksAgree(engine::dist::Communicator& comm, const rigl::TrainConfig& config) {
  if (comm.size() == 1) return;
  ENGINE_CHECK(config.batch_size >= comm.size(), "--batch_size=", config.batch_size, ": a global batch is split "
               "across the ", comm.size(), " ranks; expected --batch_size >= the rank count");
  const nlohmann::json mine = RankAgreedSettings(config);
  const nlohmann::json root = nlohmann::json::parse(engine::dist::BroadcastString(comm, mine.dump(), 0));
  for (const auto& [key, value] : mine.items()) {
    const auto it = root.find(key);
    ENGINE_CHECK(it != root.end() && *it == value, "--", key, "=", value.dump(), " on ", comm.Describe(),
                 ", but rank 0 has ", it == root.end() ? std::string("no such setting") : it->dump(),
                 "; expected every rank to run with the same flags");
  }
}

}  // namespace

namespace rigl {

int RunTrainerCli(int argc, char** argv, engine::dist::Communicator& comm) {
  // Data-parallel runs name the rank in every message.
  const std::string who = comm.size() == 1 ? "trainer" : "trainer (" + comm.Describe() + ")";
  gflags::SetUsageMessage("trains sparse (or dense) networks on Fashion-MNIST with RigL and its baselines; "
                          "--help lists the flags by group.");
  gflags::SetVersionString(rigl::kVersion);
  for (int i = 1; i < argc; ++i) {  // the trainer's own grouped help; --helpfull stays the flag library's
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-help" || arg == "-h" || arg == "--helpshort" || arg == "-helpshort") {
      std::fputs(rigl::TrainerHelp().c_str(), stdout);
      return 0;
    }
  }
  try {
    rigl::CheckFlagSyntax(argc, argv);  // gflags would exit 1 with its own message
  } catch (const engine::Error& e) {
    std::fprintf(stderr, "%s: bad flag: %s\n", who.c_str(), engine::Describe(e).c_str());
    return 2;
  }
  gflags::ParseCommandLineFlags(&argc, &argv, /*remove_flags=*/true);
  if (argc > 1) {
    std::fprintf(stderr, "%s: unexpected argument '%s'; expected only --flags (see --help)\n", who.c_str(), argv[1]);
    return 2;
  }
  rigl::TrainConfig config;
  try {
    config = rigl::ConfigFromFlags();
    config.data_dir = ResolveUserPath(config.data_dir);
    config.out_dir = ResolveUserPath(config.out_dir);
    config.resume = ResolveUserPath(config.resume);
    config.init_from = ResolveUserPath(config.init_from);
    config.export_path = ResolveUserPath(config.export_path);
    if (!config.out_dir.empty() && config.resume.empty() && !config.overwrite && !config.flops_only) {
      const std::string existing = ExistingRunFile(config.out_dir);
      ENGINE_CHECK(existing.empty(), "--out_dir=", config.out_dir, ": already holds a run (", existing,
                   "); expected an empty or new directory. Continue that run with --resume=", config.out_dir,
                   "/checkpoint.bin, replace it with --overwrite, or choose another --out_dir");
    }
    std::error_code ec;
    ENGINE_CHECK(config.export_path.empty() || config.overwrite || config.flops_only ||
                     !std::filesystem::exists(config.export_path, ec),
                 "--export=", config.export_path, ": the file exists; expected a new path. Replace it with "
                 "--overwrite, or choose another --export");
    rigl::CheckMemoryFits(config);
    CheckRanksAgree(comm, config);
  } catch (const engine::Error& e) {
    std::fprintf(stderr, "%s: bad flag: %s\n", who.c_str(), engine::Describe(e).c_str());
    return 2;
  }
  try {
    if (config.flops_only) {
      rigl::PrintFlopsTable(config);
      return 0;
    }
    // mkdir -p without a shell (the path is the user's text, never a command): --out_dir, and --export's directory
    // now rather than after the training.
    const std::string export_dir = std::filesystem::path(config.export_path).parent_path().string();
    for (const auto& [flag, dir] : {std::pair{"--out_dir", config.out_dir}, std::pair{"--export", export_dir}}) {
      if (dir.empty() || !comm.root()) continue;  // only rank 0 writes
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      if (ec || !std::filesystem::is_directory(dir, ec)) {
        std::fprintf(stderr, "%s: cannot create %s=%s: %s\n", who.c_str(), flag, dir.c_str(),
                     ec ? ec.message().c_str() : "a file of that name exists");
        return 1;
      }
    }
    rigl::Train(config, comm);
    return 0;
  } catch (const engine::Error& e) {
    std::fprintf(stderr, "%s: error: %s\n", who.c_str(), engine::Describe(e).c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", who.c_str(), e.what());
    return 1;
  }
}

}  // namespace rigl
