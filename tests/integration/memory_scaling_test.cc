// Memory scaling: a training step must allocate in proportion to nnz, never to a layer's dense size rows x cols.
// Each case runs in a forked child under an RLIMIT_DATA cap (private writable memory, Linux >= 4.7): the child first
// runs the same code on a small layer (so OpenMP threads, OpenBLAS buffers and malloc arenas exist), then caps its
// data size at what it has now plus a fixed headroom far below the big layer's dense size, then trains the big layer.
// A dense rows x cols buffer of any element type wider than 2 bits makes an allocation fail, the child exits non-zero
// and the case fails. The parent never starts OpenMP itself (libgomp's pool does not survive fork).
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "engine/autograd/variable.h"
#include "engine/base/check.h"
#include "engine/base/rng.h"
#include "engine/ops/loss.h"
#include "engine/optim/sgd.h"
#include "gtest/gtest.h"
#include "models/networks.h"
#include "rigl/checkpoint.h"
#include "rigl/config.h"
#include "rigl/trainer.h"
#include "rigl/updater.h"

namespace {

constexpr int64_t kMiB = int64_t{1} << 20;
// What the big layer may add on top of the warmed-up child: its O(nnz) state, activations, one dense-gradient tile
// (256 rows x 20000 = 20 MB) and slack. A dense 20000 x 20000 float buffer is 1526 MiB, a dense byte mask 381 MiB.
constexpr int64_t kHeadroom = 256 * kMiB;

int64_t StatusBytes(const char* key) {
  std::ifstream status("/proc/self/status");
  std::string word;
  while (status >> word) {
    if (word == key) {
      int64_t kb = 0;
      status >> kb;
      return kb * 1024;
    }
    std::getline(status, word);
  }
  return -1;
}

// Runs warmup(), caps RLIMIT_DATA at the current data size + headroom, runs body(), in a forked child. Returns the
// child's exit code (0 = body returned), or 128 + signal. Failures inside the child are printed to stderr.
int RunCapped(const std::function<void()>& warmup, const std::function<void()>& body, int64_t headroom) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int code = 0;
    try {
      warmup();
      const int64_t base = StatusBytes("VmData:");
      const rlimit cap{static_cast<rlim_t>(base + headroom), static_cast<rlim_t>(base + headroom)};
      if (base < 0 || setrlimit(RLIMIT_DATA, &cap) != 0) {
        std::fprintf(stderr, "child: cannot read VmData or set RLIMIT_DATA\n");
        std::_Exit(5);
      }
      std::fprintf(stderr, "child: data %.1f MiB after warm-up; cap %.1f MiB\n", base / 1048576.0,
                   (base + headroom) / 1048576.0);
      body();
      std::fprintf(stderr, "child: done, data %.1f MiB, peak RSS %.1f MiB\n", StatusBytes("VmData:") / 1048576.0,
                   StatusBytes("VmHWM:") / 1048576.0);
    } catch (const std::bad_alloc&) {
      std::fprintf(stderr, "child: std::bad_alloc (an allocation exceeded the data cap)\n");
      code = 3;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child: %s\n", e.what());
      code = 4;
    }
    std::fflush(nullptr);
    std::_Exit(code);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

#define CHILD_CHECK(cond, ...) ENGINE_CHECK(cond, "child check `" #cond "` failed: ", __VA_ARGS__)

std::string TempPath(const std::string& leaf) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + leaf;
}

// A model whose first layer is an n x n sparse layer with `nnz` stored weights (input n features, n hidden, 10
// classes; the 10 x n output layer is dense), and a synthetic batch.
struct TinyModel {
  models::Network net;
  engine::Tensor x;
  std::vector<int32_t> labels;
};
TinyModel MakeTinyModel(int64_t n, int64_t nnz, int64_t batch) {
  models::NetworkOptions o;
  o.model = "mlp";
  o.in_channels = n;
  o.input_hw = 1;
  o.hidden = {n};
  o.num_classes = 10;
  o.seed = 7;
  o.plan["fc1.weight"] = {true, nnz};
  TinyModel s;
  s.net = models::BuildNetwork(o);
  s.x = engine::Tensor({n, batch});
  engine::Rng rng(11);
  for (int64_t i = 0; i < s.x.size(); ++i) s.x[i] = rng.UniformFloat(-1.0f, 1.0f);
  for (int64_t b = 0; b < batch; ++b) s.labels.push_back(static_cast<int32_t>(rng.UniformInt(10)));
  return s;
}

// Forward and backward on the batch; returns the loss.
float ForwardBackward(TinyModel& s, engine::Sgd& opt, bool want_dense_grad) {
  s.net.params.sparse[0]->want_dense_grad = want_dense_grad;
  opt.ZeroGrad();
  engine::Variable logits = s.net.module->Forward(engine::Constant(s.x));
  engine::Variable loss = engine::SoftmaxCrossEntropy(logits, s.labels, 0.0f);
  engine::Backward(loss);
  return loss.value()[0];
}

// The training step's pieces on an n x n layer at nnz: SGD steps, a RigL update (tiled dense gradient + top-k), a
// SET update, a checkpoint write and read, and an evaluation forward. Checks what each must preserve.
void TrainSteps(int64_t n, int64_t nnz, int64_t batch, const std::string& tag) {
  TinyModel s = MakeTinyModel(n, nnz, batch);
  engine::SparseParameter& w = *s.net.params.sparse[0];
  CHILD_CHECK(w.weight().nnz() == nnz, "nnz ", w.weight().nnz(), " expected ", nnz);
  engine::SgdOptions so;
  so.momentum = 0.9f;
  so.nesterov = true;
  engine::Sgd opt(s.net.params, so);
  auto remap = [&](engine::PositionMap& map) { opt.RemapSparse(w, map); };
  rigl::LayerHistory history;
  for (int step = 0; step < 2; ++step) {
    const float loss = ForwardBackward(s, opt, false);
    CHILD_CHECK(std::isfinite(loss), "loss ", loss);
    opt.Step(0.05f);
  }
  // RigL: the update replaces the optimizer step.
  ForwardBackward(s, opt, true);
  rigl::UpdateOptions rigl_options;
  rigl_options.mode = rigl::GrowMode::kGradient;
  const rigl::LayerUpdateStats r = rigl::UpdateLayer(w, 0.3f, rigl_options, remap, &history);
  CHILD_CHECK(w.weight().nnz() == nnz && r.requested == static_cast<int64_t>(0.3f * static_cast<float>(nnz)) &&
                  r.grown == r.dropped && r.grown > 0,
              "RigL update: nnz ", w.weight().nnz(), " requested ", r.requested, " grown ", r.grown, " dropped ",
              r.dropped);
  // SET: after an optimizer step.
  ForwardBackward(s, opt, false);
  opt.Step(0.05f);
  rigl::UpdateOptions set_options;
  set_options.mode = rigl::GrowMode::kRandom;
  set_options.seed = 3;
  set_options.salt = 4;
  const rigl::LayerUpdateStats u = rigl::UpdateLayer(w, 0.3f, set_options, remap, &history);
  CHILD_CHECK(w.weight().nnz() == nnz && u.grown == u.dropped && u.grown > 0, "SET update: nnz ", w.weight().nnz(),
              " grown ", u.grown);
  const float loss = ForwardBackward(s, opt, false);
  CHILD_CHECK(std::isfinite(loss), "loss ", loss);
  opt.Step(0.05f);
  w.weight().Validate(w.name);
  // Checkpoint: the CSR parts and the momentum slot, written and read back bit for bit.
  const std::string path = TempPath("memory_scaling_" + tag + ".ckpt");
  {
    rigl::CheckpointWriter writer;
    writer.meta()["rows"] = w.weight().rows();
    writer.AddInt64s("row_offsets", w.weight().row_offsets().data(), w.weight().rows() + 1);
    writer.AddInt32s("col_indices", w.weight().col_indices().data(), w.weight().nnz());
    writer.AddFloats("values", w.weight().values().data(), w.weight().nnz());
    writer.AddFloats("momentum", opt.SparseSlots(w)[0], w.weight().nnz());
    writer.Write(path);
  }
  {
    const rigl::CheckpointReader reader(path);
    const engine::CsrMatrix back = engine::CsrMatrix::FromParts(
        n, n, reader.Int64s("row_offsets", n + 1), reader.Int32s("col_indices", nnz), reader.Floats("values", nnz));
    CHILD_CHECK(back.row_offsets() == w.weight().row_offsets() && back.col_indices() == w.weight().col_indices() &&
                    std::equal(back.values().begin(), back.values().end(), w.weight().values().begin()),
                "checkpoint round trip differs", "");
    const std::vector<float> momentum = reader.Floats("momentum", nnz);
    CHILD_CHECK(std::equal(momentum.begin(), momentum.end(), opt.SparseSlots(w)[0]), "momentum round trip differs",
                "");
  }
  std::remove(path.c_str());
  // Evaluation forward.
  s.net.module->SetTraining(false);
  engine::Variable logits = s.net.module->Forward(engine::Constant(s.x));
  const engine::Tensor& out = logits.value();
  CHILD_CHECK(std::all_of(out.data(), out.data() + out.size(), [](float v) { return std::isfinite(v); }),
              "evaluation logits are not all finite", "");
  const int correct = engine::CountCorrect(out, s.labels);
  CHILD_CHECK(correct >= 0 && correct <= static_cast<int>(s.labels.size()), "evaluation counted ", correct,
              " correct of ", s.labels.size());
  s.net.module->SetTraining(true);
}

// Why the cap means something: a dense float buffer of the big layer cannot be allocated under it (and a dense
// byte mask cannot either). Without this the main case could pass with a cap that stops nothing.
TEST(MemoryScalingTest, CapRejectsDenseBuffersOfTheBigLayer) {
  for (const int64_t bytes_per_entry : {int64_t{4}, int64_t{1}}) {
    const int code = RunCapped([] { TrainSteps(512, 512 * 512 / 100, 8, "warm"); },
                               [bytes_per_entry] {
                                 std::vector<char> dense(static_cast<size_t>(20000) * 20000 * bytes_per_entry, 1);
                                 std::fprintf(stderr, "child: allocated %zu bytes\n", dense.size());
                               },
                               kHeadroom);
    EXPECT_EQ(code, 3) << "a dense 20000 x 20000 buffer of " << bytes_per_entry
                       << "-byte entries was not refused by the cap (exit " << code << ")";
  }
}

// The case: a 20000 x 20000 layer at 99.99% sparsity (40000 nnz; dense weight 1.6 GB) trains, updates its
// topology by RigL and SET, and checkpoints under a cap of 256 MiB above the warmed-up process.
TEST(MemoryScalingTest, TrainingStepOf20000x20000LayerAt9999PercentFitsUnderCap) {
  const int code = RunCapped([] { TrainSteps(512, 512 * 512 / 100, 32, "warm"); },
                             [] { TrainSteps(20000, 40000, 32, "big"); }, kHeadroom);
  EXPECT_EQ(code, 0) << "the training step of a 20000 x 20000 layer at 40000 nnz failed under a data cap of "
                     << kHeadroom / kMiB << " MiB over its warm-up (exit 3 = an allocation was refused)";
}

// The real trainer (rigl::Train: data loading, RigL updates with telemetry and history, evaluation, checkpoint,
// summary) on 784-20000-20000-10 at 99.99% sparsity, under a cap tighter than a 1-bit dense mask of its 20000 x 20000
// layer (4e8 bits = 47.7 MiB): any buffer that scales with rows x cols, even a bitmap, is refused. The warm-up runs a
// small training on the same data slice first, so the data set's buffers are already part of the process (freed
// memory is reused, never trimmed: engine::ReuseFreedMemory).
constexpr int64_t kBitMaskOfBigLayer = int64_t{20000} * 20000 / 8;
constexpr int64_t kTrainerHeadroom = 40 * kMiB;
static_assert(kTrainerHeadroom < kBitMaskOfBigLayer, "the cap must refuse a dense bit mask");

rigl::TrainConfig BigTrainerConfig(const std::string& dir, int64_t width) {
  rigl::TrainConfig c;
  c.method = rigl::Method::kRigl;
  c.width = {width, width};
  c.sparsity = 0.9999;
  c.distribution = "uniform";
  c.train_limit = 96;
  c.test_limit = 32;
  c.batch_size = 32;
  c.epochs = 1;
  c.delta_t = 1;  // a topology update every other iteration (RigL's update iterations do not advance t)
  c.grow_tile_rows = 16;  // a dense-gradient tile of 16 x 20000 floats (1.2 MiB)
  c.init_fan = "stored";
  c.out_dir = dir;
  c.overwrite = true;
  c.progress = "none";
  c.threads = 2;
  return c;
}

TEST(MemoryScalingTest, TrainerOn20000WideLayersFitsUnderACapBelowABitMask) {
  const std::string dir = TempPath("trainer_capped");
  mkdir(dir.c_str(), 0755);
  // Two warm-up runs: each loads the whole training set (188 MB) before slicing it, and an allocation of the first
  // run that outlives it can land inside that freed block and split it; the second run's block is then whole, and is
  // the one the capped run reuses. (Which allocations land where is the allocator's business: any layout change,
  // even a new config field, moved it.)
  const int code = RunCapped([&] {
                               rigl::Train(BigTrainerConfig(dir, 64));
                               rigl::Train(BigTrainerConfig(dir, 64));
                             },
                             [&] {
                               const rigl::TrainSummary s = rigl::Train(BigTrainerConfig(dir, 20000));
                               CHILD_CHECK(s.updates >= 1, "no topology update ran", "");
                               CHILD_CHECK(s.realised_sparsity > 0.999, "sparsity ", s.realised_sparsity, "");
                             },
                             kTrainerHeadroom);
  EXPECT_EQ(code, 0) << "rigl::Train on 784-20000-20000-10 at 99.99% needed more than " << kTrainerHeadroom / kMiB
                     << " MiB over its warm-up (exit 3 = an allocation was refused), less than a 1-bit mask of its "
                     << "20000 x 20000 layer would take";
}

// Flat positions beyond 32 bits: a 70000 x 70000 layer (4.9e9 positions) draws its pattern and a SET update, and
// trains a step, under the same cap. (RigL's grow is left out here only for time: it is checked above.)
TEST(MemoryScalingTest, LayerWithMoreThan2To32PositionsTrainsWithSetUnderCap) {
  const int code = RunCapped([] { TrainSteps(512, 512 * 512 / 100, 4, "warm"); },
                             [] {
                               const int64_t n = 70000, nnz = 49000;
                               TinyModel s = MakeTinyModel(n, nnz, 4);
                               engine::SparseParameter& w = *s.net.params.sparse[0];
                               engine::Sgd opt(s.net.params, engine::SgdOptions{});
                               ForwardBackward(s, opt, false);
                               opt.Step(0.05f);
                               rigl::UpdateOptions o;
                               o.mode = rigl::GrowMode::kRandom;
                               o.seed = 5;
                               rigl::LayerHistory history;
                               rigl::UpdateLayer(w, 0.3f, o, [&](engine::PositionMap& m) { opt.RemapSparse(w, m); },
                                                 &history);
                               w.weight().Validate(w.name);
                               // Uniform positions over 4.9e9: rows past 2^32 / n = 61356 must be populated.
                               int64_t high = 0;
                               for (int64_t flat : history.ever_active.Sorted()) high += flat >= (int64_t{1} << 32);
                               CHILD_CHECK(high > 0 && w.weight().nnz() == nnz, "positions >= 2^32: ", high);
                               ForwardBackward(s, opt, false);
                               opt.Step(0.05f);
                             },
                             kHeadroom);
  EXPECT_EQ(code, 0) << "a 70000 x 70000 layer failed under the cap (exit " << code << ")";
}

// Checkpoints stream: writing a 256 MiB blob and verifying the file (CRC over every byte, header and blob table)
// fit in 32 MiB above the process that holds the blob. A writer or reader that assembles the file in memory needs
// 256 MiB more and fails.
TEST(MemoryScalingTest, CheckpointWriteAndVerifyHoldNoCopyOfTheFile) {
  auto big = std::make_shared<std::vector<float>>();
  const int code = RunCapped([big] { big->assign(static_cast<size_t>(64 * kMiB), 0.5f); },
                             [big] {
                               const std::string path = TempPath("no_copy.ckpt");
                               const std::vector<int32_t> small = {1, -2, 3};
                               rigl::CheckpointWriter w;
                               w.meta()["what"] = "no copy";
                               w.AddFloats("big", big->data(), static_cast<int64_t>(big->size()));
                               w.AddInt32s("small", small.data(), 3);
                               w.Write(path);
                               const rigl::CheckpointReader r(path);
                               CHILD_CHECK(r.Has("big") && r.Int32s("small", 3) == small &&
                                               r.meta().at("what") == "no copy",
                                           "checkpoint round trip of the small entries", "");
                               std::remove(path.c_str());
                             },
                             32 * kMiB);
  EXPECT_EQ(code, 0) << "writing or verifying a checkpoint with a 256 MiB entry needed more than 32 MiB on top of "
                        "the entry (exit 3 = an allocation was refused)";
}

// SNFS keeps a dense EMA by definition; the trainer refuses it up front for a layer whose EMA exceeds its budget
// instead of attempting the allocation (here under the cap too, so an attempt would fail differently).
TEST(MemoryScalingTest, TrainerRefusesSnfsWhenTheDenseEmaExceedsItsBudget) {
  const int code = RunCapped([] {}, [] {
    rigl::TrainConfig c;
    c.model = "mlp";
    c.width = {40000, 40000};  // fc2's EMA: 40000^2 floats = 6 GiB
    c.method = rigl::Method::kSnfs;
    c.sparsity = 0.9999;
    c.distribution = "uniform";
    c.data_dir = "/nonexistent";  // the refusal must come before the data is read
    c.progress = "none";
    try {
      rigl::Train(c);
    } catch (const engine::Error& e) {
      const std::string message = e.what();
      CHILD_CHECK(message.find("--method=snfs: layer fc2.weight is 40000 x 40000") != std::string::npos,
                  "unexpected error: ", message);
      return;
    }
    CHILD_CHECK(false, "SNFS on a 40000 x 40000 layer was accepted", "");
  }, kHeadroom);
  EXPECT_EQ(code, 0) << "see the child's message above";
}

}  // namespace
