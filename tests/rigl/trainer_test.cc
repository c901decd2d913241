// End-to-end tests of the trainer on a slice of the real Fashion-MNIST (installed by tools/setup.sh): training
// reduces the loss, a run interrupted and resumed ends bit-identical to an uninterrupted one, corrupt checkpoints
// are refused, divergence is reported, and every method keeps its sparsity promise.
#include "rigl/trainer.h"

#include <sys/stat.h>

#include <cmath>
#include <map>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/base/check.h"
#include "engine/base/cpu.h"
#include "rigl/config.h"
#include "tests/rigl/checkpoint_surgery.h"
#include "tests/rigl/run_fixture.h"

namespace {

using testutil::TempDir;

bool HaveData() { return testutil::HaveFashionMnist(); }

rigl::TrainConfig Small(const std::string& method) {
  rigl::TrainConfig c;
  c.method = rigl::ParseMethod(method);
  c.train_limit = 768;
  c.test_limit = 500;
  c.batch_size = 64;
  c.epochs = 2;
  c.width = {64, 32};
  c.sparsity = 0.8;
  c.delta_t = 4;  // several topology updates in 24 iterations
  c.prune_frequency = 3;
  c.threads = 2;
  c.seed = 7;
  c.progress = "none";
  return c;
}

std::vector<nlohmann::json> ReadMetrics(const std::string& dir) {
  std::ifstream in(dir + "/metrics.jsonl");
  std::vector<nlohmann::json> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

TEST(Trainer, DenseTrainingReducesLossAndWritesOutputs) {
  if (!HaveData()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  rigl::TrainConfig c = Small("dense");
  c.epochs = 3;
  c.out_dir = TempDir("dense");
  const rigl::TrainSummary s = rigl::Train(c);
  const auto metrics = ReadMetrics(c.out_dir);
  ASSERT_EQ(metrics.size(), 3u);
  EXPECT_LT(metrics[2]["train_loss"].get<double>(), metrics[0]["train_loss"].get<double>());
  EXPECT_GT(s.test_accuracy, 0.5) << "far above chance (0.1) after 3 small epochs";
  for (const char* f : {"config.json", "metrics.csv", "checkpoint.bin", "summary.json"}) {
    std::ifstream in(c.out_dir + "/" + f);
    EXPECT_TRUE(in.good()) << f;
  }
}

// Interrupt mid-epoch, resume, and compare with the uninterrupted run bit for bit. The resumed run must prove it
// restored the checkpoint rather than trained again from iteration 0 with the same seed: it starts at the
// checkpoint's iteration, and (checked once, for RigL) a checkpoint whose weights were altered changes the result.
struct ResumeCase {
  std::string method, model;
  bool augment;
  std::string block = "1x1";
};

void PrintTo(const ResumeCase& c, std::ostream* os) {
  *os << c.method << "/" << c.model << (c.augment ? "/augment" : "") << "/" << c.block;
}

rigl::TrainConfig ForCase(const ResumeCase& k) {
  rigl::TrainConfig c = Small(k.method);
  c.model = k.model;
  c.augment = k.augment;
  c.block = k.block;
  if (k.model != "mlp") {  // convnets: a smaller slice, still two epochs with the stop mid second epoch
    c.train_limit = 640;
    c.batch_size = 32;
    c.test_limit = 128;
  }
  if (k.model.rfind("mobilenet", 0) == 0) c.mobilenet_width = 0.25;  // 8-channel stem: a fast test
  return c;
}

void ExpectResumeIsBitExact(const ResumeCase& k) {
  const std::string tag = k.method + "_" + k.model + (k.augment ? "_aug" : "") + "_" + k.block;
  rigl::TrainConfig full = ForCase(k);
  full.out_dir = TempDir(tag + "_full");
  const rigl::TrainSummary a = rigl::Train(full);

  rigl::TrainConfig part = ForCase(k);
  part.out_dir = TempDir(tag + "_part");
  const int64_t stop = full.train_limit / full.batch_size + 5;  // mid second epoch, between topology updates
  part.stop_after_steps = stop;
  rigl::Train(part);
  rigl::TrainConfig resumed = ForCase(k);
  resumed.out_dir = part.out_dir;
  resumed.resume = part.out_dir + "/checkpoint.bin";
  const rigl::TrainSummary b = rigl::Train(resumed);
  EXPECT_EQ(b.start_iteration, stop) << tag << ": the resumed run did not start at the checkpoint";
  if (k.block != "1x1") {
    EXPECT_GT(b.blocked_layers, 0) << tag << ": no layer was stored in blocks";
  }
  EXPECT_EQ(a.weights_fingerprint, b.weights_fingerprint) << tag;
  EXPECT_EQ(a.steps, b.steps) << tag;
  EXPECT_EQ(a.test_accuracy, b.test_accuracy) << tag;
  EXPECT_EQ(a.counted_train_flops, b.counted_train_flops) << tag;
}

class ResumeTest : public ::testing::TestWithParam<ResumeCase> {};

TEST_P(ResumeTest, IsBitExactAndStartsAtTheCheckpoint) {
  if (!HaveData()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  ExpectResumeIsBitExact(GetParam());
}

// Every method on the MLP; each trainable convnet (WRN-22-2 has BatchNorm running statistics) and augmentation.
INSTANTIATE_TEST_SUITE_P(
    MethodsAndModels, ResumeTest,
    ::testing::Values(ResumeCase{"rigl", "mlp", false}, ResumeCase{"set", "mlp", false},
                      ResumeCase{"pruning", "mlp", false}, ResumeCase{"dense", "mlp", false},
                      ResumeCase{"static", "mlp", false}, ResumeCase{"snfs", "mlp", false},
                      ResumeCase{"snip", "mlp", false}, ResumeCase{"small_dense", "mlp", false},
                      ResumeCase{"rigl", "mlp", true}, ResumeCase{"rigl", "lenet5", false},
                      ResumeCase{"static", "wrn22_2", false}, ResumeCase{"rigl", "mobilenet_v2", false},
                      ResumeCase{"set", "mobilenet_v1", false},
                      // Block-sparse linear layers: every method that edits a pattern, each block family.
                      ResumeCase{"rigl", "mlp", false, "4x1"}, ResumeCase{"set", "mlp", false, "2x2"},
                      ResumeCase{"snfs", "mlp", false, "4x4"}, ResumeCase{"pruning", "mlp", false, "8x1"},
                      ResumeCase{"snip", "mlp", false, "1x4"}, ResumeCase{"static", "mlp", false, "8x1"},
                      ResumeCase{"rigl", "lenet5", false, "4x1"}, ResumeCase{"rigl_global", "mlp", false},
                      ResumeCase{"rigl_global", "lenet5", false}, ResumeCase{"mest", "mlp", false}),
    [](const ::testing::TestParamInfo<ResumeCase>& info) {
      const std::string block = info.param.block == "1x1" ? "" : "_block" + info.param.block;
      return info.param.method + "_" + info.param.model + (info.param.augment ? "_augment" : "") + block;
    });

TEST(Trainer, ResumeFromAlteredWeightsChangesTheResult) {
  if (!HaveData()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  rigl::TrainConfig full = Small("rigl");
  full.out_dir = TempDir("altered_full");
  const rigl::TrainSummary a = rigl::Train(full);
  rigl::TrainConfig part = Small("rigl");
  part.out_dir = TempDir("altered_part");
  part.stop_after_steps = 17;
  rigl::Train(part);
  const std::string path = part.out_dir + "/checkpoint.bin";
  testutil::CheckpointParts parts = testutil::ParseCheckpoint(testutil::ReadFileBytes(path));
  testutil::CheckpointParts::Blob* values = parts.Find("fc1.weight.values");
  ASSERT_NE(values, nullptr);
  float w0;
  std::memcpy(&w0, values->bytes.data(), 4);
  w0 += 0.5f;
  std::memcpy(values->bytes.data(), &w0, 4);
  testutil::WriteFileBytes(path, testutil::SerializeCheckpoint(parts));
  rigl::TrainConfig resumed = Small("rigl");
  resumed.out_dir = part.out_dir;
  resumed.resume = path;
  const rigl::TrainSummary b = rigl::Train(resumed);
  EXPECT_NE(a.weights_fingerprint, b.weights_fingerprint) << "the resumed run ignored the checkpoint's weights";
}

// The trainer on every kernel path this CPU runs (portable included, forced), each learning and each bit-identical
// for 1 and 2 threads; paths the CPU lacks are named as untested.
TEST(Trainer, TrainsOnEveryIsaPath) {
  if (!HaveData()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  for (engine::Isa isa : {engine::Isa::kAvx2, engine::Isa::kAvx512}) {
    if (isa > engine::BestIsa()) std::printf("[ SKIPPED  ] ISA %s: this CPU lacks it\n", engine::IsaName(isa));
  }
  for (engine::Isa isa : engine::SupportedIsas()) {
    engine::LimitIsa(isa);
    rigl::TrainSummary s[2];
    for (int t = 0; t < 2; ++t) {
      rigl::TrainConfig c = Small("rigl");
      c.threads = t + 1;
      s[t] = rigl::Train(c);
    }
    EXPECT_GT(s[0].test_accuracy, 0.5) << engine::IsaName(isa);
    EXPECT_EQ(s[0].weights_fingerprint, s[1].weights_fingerprint) << engine::IsaName(isa);
  }
  engine::LimitIsa(engine::Isa::kAvx512);
}

// The whole trainer, 1 thread against 2: the same bits (kernels, Gemm's own split, reductions all thread-count
// independent), on the MLP with RigL and on LeNet-5 (dense convolutions through Gemm, sparse ones ours).
TEST(Trainer, BitIdenticalForOneAndTwoThreads) {
  if (!HaveData()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  for (const ResumeCase& k : {ResumeCase{"rigl", "mlp", false}, ResumeCase{"rigl", "lenet5", false},
                              ResumeCase{"rigl", "mlp", false, "4x1"}, ResumeCase{"rigl", "mlp", false, "4x4"},
                              ResumeCase{"rigl", "mobilenet_v2", false}}) {
    rigl::TrainSummary s[2];
    for (int t = 0; t < 2; ++t) {
      rigl::TrainConfig c = ForCase(k);
      c.threads = t + 1;
      s[t] = rigl::Train(c);
    }
    EXPECT_EQ(s[0].weights_fingerprint, s[1].weights_fingerprint) << k.model << " " << k.block;
    EXPECT_EQ(s[0].test_accuracy, s[1].test_accuracy) << k.model << " " << k.block;
  }
}

// --time_budget stops the run early, evaluates and writes the summary, and leaves a checkpoint from which the run
// resumes to the same weights as an uninterrupted one. A budget of 1 ns always ends after the first iteration, so
// this does not depend on the machine's speed.
TEST(Trainer, TimeBudgetStopsEvaluatesAndResumesBitExact) {
  if (!HaveData()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  rigl::TrainConfig full = Small("rigl");
  full.out_dir = TempDir("budget_full");
  const rigl::TrainSummary a = rigl::Train(full);
  EXPECT_FALSE(a.stopped_by_time_budget);

  rigl::TrainConfig cut = Small("rigl");
  cut.out_dir = TempDir("budget_cut");
  cut.time_budget = 1e-9;
  const rigl::TrainSummary b = rigl::Train(cut);
  EXPECT_TRUE(b.stopped_by_time_budget);
  EXPECT_EQ(b.iterations, 1);
  EXPECT_GT(b.test_accuracy, 0.0);  // evaluated
  std::ifstream in(cut.out_dir + "/summary.json");
  ASSERT_TRUE(in.good()) << "a budget stop writes summary.json";
  const nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_TRUE(j.at("stopped_by_time_budget").get<bool>());
  EXPECT_EQ(j.at("iterations").get<int64_t>(), 1);
  EXPECT_EQ(j.at("total_iterations").get<int64_t>(), 24);
  const auto metrics = ReadMetrics(cut.out_dir);
  ASSERT_EQ(metrics.size(), 1u);
  EXPECT_TRUE(metrics[0].at("partial_epoch").get<bool>());

  rigl::TrainConfig resumed = Small("rigl");
  resumed.out_dir = cut.out_dir;
  resumed.resume = cut.out_dir + "/checkpoint.bin";
  const rigl::TrainSummary c = rigl::Train(resumed);
  EXPECT_FALSE(c.stopped_by_time_budget);
  EXPECT_EQ(a.weights_fingerprint, c.weights_fingerprint);
  EXPECT_EQ(a.test_accuracy, c.test_accuracy);
}

TEST(Trainer, SparseMethodsEndAtTheirTargetSparsity) {
  if (!HaveData()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  for (const char* method : {"static", "set", "rigl", "snfs", "snip", "pruning", "rigl_global", "mest"}) {
    rigl::TrainConfig c = Small(method);
    c.epochs = 1;
    c.prune_start = 0.0;
    c.prune_end = 0.5;
    const rigl::TrainSummary s = rigl::Train(c);
    // ERK at S = 0.8 over 784-64-32-10: the realised sparsity is S within rounding.
    EXPECT_NEAR(s.realised_sparsity, 0.8, 1e-3) << method;
    if (std::string(method) != "static") {
      EXPECT_GT(s.updates, 0) << method;
    }
  }
}

// MobileNet v2 (width 0.25, the smallest) trains with every method: the loss is finite, the sparse methods end at
// S over the masked layers (the stem and depthwise convs stay dense, outside the budget) and the dynamic ones
// update the topology.
TEST(Trainer, MobileNetTrainsWithEveryMethod) {
  if (!HaveData()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  for (const char* method : {"dense", "small_dense", "static", "set", "rigl", "snfs", "snip", "pruning"}) {
    rigl::TrainConfig c = Small(method);
    c.model = "mobilenet_v2";
    c.mobilenet_width = 0.25;
    c.train_limit = 256;
    c.test_limit = 64;
    c.batch_size = 32;
    c.epochs = 1;
    c.prune_start = 0.0;
    c.prune_end = 0.5;
    const rigl::TrainSummary s = rigl::Train(c);
    EXPECT_TRUE(std::isfinite(s.final_train_loss)) << method;
    const std::string m = method;
    if (m == "dense" || m == "small_dense") continue;
    EXPECT_NEAR(s.realised_sparsity, 0.8, 1e-3) << method;
    if (m != "static" && m != "snip") {
      EXPECT_GT(s.updates, 0) << method;
    }
  }
}

// The same in blocks: counts are rounded on each layer's block grid, so the realised sparsity is S within a block
// per layer, and the layers end stored in blocks.
TEST(Trainer, BlockSparseMethodsEndAtTheirTargetSparsity) {
  if (!HaveData()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  for (const char* block : {"4x1", "8x1", "4x4"}) {
    for (const char* method : {"static", "set", "rigl", "snfs", "snip", "pruning"}) {
      rigl::TrainConfig c = Small(method);
      c.epochs = 1;
      c.prune_start = 0.0;
      c.prune_end = 0.5;
      c.block = block;
      const rigl::TrainSummary s = rigl::Train(c);
      EXPECT_EQ(s.blocked_layers, 2) << method << " " << block << ": fc1 and fc2 (fc3 is dense under ERK)";
      EXPECT_NEAR(s.realised_sparsity, 0.8, 5e-3) << method << " " << block;
      if (std::string(method) != "static") {
        EXPECT_GT(s.updates, 0) << method << " " << block;
      }
    }
  }
}

// The global ranking moves nnz between layers, at a constant total, and no layer goes below its floor: the per-layer
// densities in metrics.jsonl against the static run's (the distribution's), epoch by epoch.
TEST(Trainer, GlobalRankingMovesNnzBetweenLayersAboveTheirFloors) {
  if (!HaveData()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  rigl::TrainConfig planned = Small("static");
  planned.out_dir = TempDir("global_plan");
  rigl::Train(planned);
  rigl::TrainConfig c = Small("rigl_global");
  c.global_floor = 0.7;
  c.drop_fraction = 0.5;
  c.out_dir = TempDir("global");
  rigl::Train(c);
  // The sparse layers (ERK keeps fc3 dense at this size, outside the ranking).
  const std::map<std::string, int64_t> cells = {{"fc1.weight", 64 * 784}, {"fc2.weight", 32 * 64}};
  const nlohmann::json target = ReadMetrics(planned.out_dir).back()["density"];
  const auto metrics = ReadMetrics(c.out_dir);
  ASSERT_EQ(metrics.size(), 2u);
  ASSERT_EQ(target.size(), cells.size()) << target.dump();
  bool moved = false;
  for (const nlohmann::json& line : metrics) {
    int64_t sum = 0, target_sum = 0;
    ASSERT_EQ(line["density"].size(), cells.size()) << line.dump();
    for (const auto& [name, n] : cells) {
      ASSERT_TRUE(target.contains(name) && line["density"].contains(name)) << name;
      const int64_t want = std::llround(target[name].get<double>() * n);
      const int64_t have = std::llround(line["density"][name].get<double>() * n);
      EXPECT_GE(have, static_cast<int64_t>(std::ceil(0.7 * want))) << name << " epoch " << line["epoch"];
      moved |= have != want;
      sum += have;
      target_sum += want;
    }
    EXPECT_EQ(sum, target_sum) << "epoch " << line["epoch"] << ": the total nnz is conserved";
  }
  EXPECT_TRUE(moved) << "no layer's nnz moved: the ranking is not global";
}

// MEST's soft memory bound: between updates a layer holds its budget plus the cells grown at the last update
// (metrics.jsonl's per-layer density at the end of epoch 1, mid-schedule), and the run ends at the budget (the last
// update grows nothing).
TEST(Trainer, MestHoldsItsGrowthUntilTheNextUpdateAndEndsAtTheBudget) {
  if (!HaveData()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  rigl::TrainConfig planned = Small("static");
  planned.out_dir = TempDir("mest_plan");
  rigl::Train(planned);
  rigl::TrainConfig c = Small("mest");
  c.drop_schedule = "constant";
  c.out_dir = TempDir("mest");
  const rigl::TrainSummary s = rigl::Train(c);
  // 24 iterations, updates every 4 steps until t_end = 0.75 x 24 = 18; epoch 1 ends at step 12, right after the
  // update at 12, which grew DropCount(budget, 0.3) cells per layer (a later update follows at 16).
  const nlohmann::json target = ReadMetrics(planned.out_dir).back()["density"];
  const auto metrics = ReadMetrics(c.out_dir);
  ASSERT_EQ(metrics.size(), 2u);
  const std::map<std::string, int64_t> cells = {{"fc1.weight", 64 * 784}, {"fc2.weight", 32 * 64}};
  ASSERT_EQ(target.size(), cells.size()) << target.dump();
  for (const auto& [name, n] : cells) {
    const int64_t budget = std::llround(target[name].get<double>() * n);
    const int64_t grown = static_cast<int64_t>(static_cast<float>(budget) * 0.3f);
    EXPECT_EQ(std::llround(metrics[0]["density"][name].get<double>() * n), std::min(budget + grown, n)) << name;
    EXPECT_EQ(std::llround(metrics[1]["density"][name].get<double>() * n), budget) << name;
  }
  EXPECT_GE(s.updates, 4);
  EXPECT_NEAR(s.realised_sparsity, 0.8, 1e-3);
}

// Counted FLOPs (every kernel call adds what it performed) against RIGL.md 4.3's theoretical count: they agree
// within a few percent once the first layer's data gradient, which is never computed, is left out. The remaining
// gap for RigL is the pattern SDDMM that still runs on update iterations (the paper charges 2 f_S + f_D there).
TEST(Trainer, CountedFlopsMatchTheoreticalForStaticSetRigl) {
  if (!HaveData()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  for (const char* method : {"static", "set", "rigl", "dense", "rigl_global", "mest"}) {
    rigl::TrainConfig c = Small(method);
    c.epochs = 1;
    // The sparse kernels' own count: a layer on the dense path (--layer_kernels=auto, engine/ops/layer_kernels.h)
    // performs its dense FLOPs, which the paper's count does not charge (checked below).
    c.layer_kernels = "sparse";
    const rigl::TrainSummary s = rigl::Train(c);
    const double ratio = s.counted_train_flops / s.theoretical_train_flops_engine;
    std::printf("%s: counted / theoretical (without the first layer's data gradient) = %.5f\n", method, ratio);
    // The README's claim: within 0.4% for static, SET and dense; within 3% for RigL (its update iterations are
    // charged 2 f_S + f_D by the paper's rule, while the engine computes the dense gradient tile by tile). The
    // global ranking's per-layer densities move, so its theoretical count must follow them to agree.
    const std::string m = method;
    const double tolerance = m == "rigl" || m == "rigl_global" ? 0.03 : 0.004;
    EXPECT_NEAR(ratio, 1.0, tolerance) << method;
  }
}

// With the default per-layer choice, the layers dense enough to run on the dense kernels are named in the summary,
// and their dense FLOPs are counted: never fewer than the sparse kernels' count, and exactly that count with every
// layer forced onto the sparse kernels.
TEST(Trainer, DenseKernelLayersAreNamedAndTheirFlopsCounted) {
  if (!HaveData()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  rigl::TrainConfig c = Small("static");
  c.epochs = 1;
  c.layer_kernels = "sparse";
  const rigl::TrainSummary sparse = rigl::Train(c);
  EXPECT_TRUE(sparse.dense_kernel_layers.empty());
  c.layer_kernels = "dense";
  const rigl::TrainSummary dense = rigl::Train(c);
  EXPECT_FALSE(dense.dense_kernel_layers.empty());
  EXPECT_GT(dense.counted_train_flops, sparse.counted_train_flops);
  EXPECT_NEAR(dense.final_train_loss, sparse.final_train_loss, 1e-3 * std::max(1.0, sparse.final_train_loss));
}

TEST(Trainer, CorruptCheckpointIsRefused) {
  if (!HaveData()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  rigl::TrainConfig c = Small("rigl");
  c.epochs = 1;
  c.out_dir = TempDir("corrupt");
  rigl::Train(c);
  const std::string path = c.out_dir + "/checkpoint.bin";
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(200);
    char byte;
    f.read(&byte, 1);
    byte ^= 0x5A;
    f.seekp(200);
    f.write(&byte, 1);
  }
  rigl::TrainConfig r = Small("rigl");
  r.resume = path;
  try {
    rigl::Train(r);
    FAIL() << "a corrupt checkpoint was accepted";
  } catch (const engine::Error& e) {
    EXPECT_NE(std::string(e.what()).find("checksum mismatch"), std::string::npos) << e.what();
  }
}

TEST(Trainer, ResumeWithDifferentSettingsIsRefused) {
  if (!HaveData()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  rigl::TrainConfig c = Small("static");
  c.epochs = 1;
  c.out_dir = TempDir("mismatch");
  rigl::Train(c);
  rigl::TrainConfig r = Small("static");
  r.epochs = 1;
  r.lr = 0.123;
  r.resume = c.out_dir + "/checkpoint.bin";
  try {
    rigl::Train(r);
    FAIL() << "resumed with another --lr";
  } catch (const engine::Error& e) {
    EXPECT_NE(std::string(e.what()).find("--lr="), std::string::npos) << e.what();
  }
}

// A checkpoint whose bytes are intact (valid CRC) but whose contents are impossible: each case is refused with a
// message naming the entry, never a crash (issue 15: last_grown >= 2^62 crashed in CsrMatrix::Find).
TEST(Trainer, TamperedCheckpointWithValidChecksumIsRefused) {
  if (!HaveData()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  rigl::TrainConfig c = Small("rigl");
  c.epochs = 2;
  c.stop_after_steps = 14;  // mid-run, after a few topology updates
  c.out_dir = TempDir("tampered");
  rigl::Train(c);
  const std::string path = c.out_dir + "/checkpoint.bin";
  const std::vector<uint8_t> good = testutil::ReadFileBytes(path);
  struct Case {
    const char* why;
    std::function<void(testutil::CheckpointParts*)> edit;
    const char* message;
  } cases[] = {
      {"last_grown far outside the layer",
       [](testutil::CheckpointParts* p) {
         testutil::CheckpointParts::Blob* b = p->Find("history:fc1.weight.last_grown");
         ASSERT_NE(b, nullptr);
         ASSERT_GT(b->count, 0u);
         const int64_t huge = int64_t{1} << 62;
         std::memcpy(b->bytes.data(), &huge, 8);
       },
       "history:fc1.weight.last_grown"},
      {"ever_active out of order",
       [](testutil::CheckpointParts* p) {
         testutil::CheckpointParts::Blob* b = p->Find("history:fc2.weight.ever_active");
         ASSERT_NE(b, nullptr);
         ASSERT_GT(b->count, 1u);
         std::swap_ranges(b->bytes.begin(), b->bytes.begin() + 8, b->bytes.begin() + 8);
       },
       "not strictly ascending"},
      {"iteration 10^15",
       [](testutil::CheckpointParts* p) {
         nlohmann::json meta = nlohmann::json::parse(p->meta);
         meta["iteration"] = int64_t{1000000000000000};
         p->meta = meta.dump();
       },
       "'iteration'"},
      {"a missing header key",
       [](testutil::CheckpointParts* p) {
         nlohmann::json meta = nlohmann::json::parse(p->meta);
         meta.erase("last_update");
         p->meta = meta.dump();
       },
       "lacks an entry"},
      {"a key of the wrong type",
       [](testutil::CheckpointParts* p) {
         nlohmann::json meta = nlohmann::json::parse(p->meta);
         meta["epoch"] = "two";
         p->meta = meta.dump();
       },
       "wrong type"},
  };
  for (const Case& k : cases) {
    testutil::CheckpointParts parts = testutil::ParseCheckpoint(good);
    k.edit(&parts);
    testutil::WriteFileBytes(path, testutil::SerializeCheckpoint(parts));
    rigl::TrainConfig r = Small("rigl");
    r.epochs = 2;
    r.resume = path;
    try {
      rigl::Train(r);
      ADD_FAILURE() << k.why << ": accepted";
    } catch (const engine::Error& e) {
      EXPECT_NE(std::string(e.what()).find(k.message), std::string::npos) << k.why << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << k.why << ": " << e.what();
    }
  }
  // The untouched bytes still resume (the surgery itself is faithful).
  testutil::WriteFileBytes(path, good);
  rigl::TrainConfig r = Small("rigl");
  r.epochs = 2;
  r.resume = path;
  EXPECT_NO_THROW(rigl::Train(r));
}

// A block-sparse checkpoint whose padding (entries of a block outside the weight) holds a value, in the weights or
// in the momentum: the kernels would never read it, but it would change block norms, so it is refused.
TEST(Trainer, BlockCheckpointWithNonZeroPaddingIsRefused) {
  if (!HaveData()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  auto config = [] {
    rigl::TrainConfig c = Small("rigl");
    c.width = {62, 30};  // 62 rows in 4x1 blocks: fc1's last block row has 2 rows of padding
    c.block = "4x1";
    return c;
  };
  rigl::TrainConfig c = config();
  c.stop_after_steps = 14;
  c.out_dir = TempDir("block_padding");
  rigl::Train(c);
  const std::string path = c.out_dir + "/checkpoint.bin";
  const std::vector<uint8_t> good = testutil::ReadFileBytes(path);
  for (const char* entry : {"fc1.weight.values", "optim:fc1.weight.momentum"}) {
    testutil::CheckpointParts parts = testutil::ParseCheckpoint(good);
    testutil::CheckpointParts::Blob* b = parts.Find(entry);
    ASSERT_NE(b, nullptr) << entry;
    // Put 1.0 into the padding rows (62, 63) of every stored block of the last block row: the last blocks stored.
    const float one = 1.0f;
    const size_t floats = b->bytes.size() / 4;
    ASSERT_GE(floats, 4u);
    std::memcpy(b->bytes.data() + (floats - 1) * 4, &one, 4);  // row 3 of the last block: row 63, padding
    testutil::WriteFileBytes(path, testutil::SerializeCheckpoint(parts));
    rigl::TrainConfig r = config();
    r.resume = path;
    try {
      rigl::Train(r);
      ADD_FAILURE() << entry << ": accepted";
    } catch (const engine::Error& e) {
      EXPECT_NE(std::string(e.what()).find("padding entries are 0"), std::string::npos) << entry << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << entry << ": " << e.what();
    }
  }
  testutil::WriteFileBytes(path, good);
  rigl::TrainConfig r = config();
  r.resume = path;
  EXPECT_NO_THROW(rigl::Train(r));
}

// Killed before its first checkpoint was committed: only checkpoint.bin.tmp exists. --resume says so.
TEST(Trainer, ResumeWithOnlyATemporaryFileSaysNothingWasCommitted) {
  const std::string dir = TempDir("only_tmp");
  std::ofstream(dir + "/checkpoint.bin.tmp") << "half a checkpoint";
  rigl::TrainConfig r = Small("rigl");
  r.resume = dir + "/checkpoint.bin";
  try {
    rigl::Train(r);
    FAIL() << "resumed from nothing";
  } catch (const engine::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no checkpoint was committed yet"), std::string::npos) << e.what();
  }
}

// A refused resume writes nothing: config.json still describes the checkpoint's run (issue 15 item 4).
TEST(Trainer, RefusedResumeLeavesConfigJsonAlone) {
  if (!HaveData()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  rigl::TrainConfig c = Small("static");
  c.epochs = 1;
  c.out_dir = TempDir("refused_resume");
  rigl::Train(c);
  const std::string before = testutil::ReadFileText(c.out_dir + "/config.json");
  rigl::TrainConfig r = c;
  r.lr = 0.321;
  r.resume = c.out_dir + "/checkpoint.bin";
  EXPECT_THROW(rigl::Train(r), engine::Error);
  EXPECT_EQ(testutil::ReadFileText(c.out_dir + "/config.json"), before);
}

TEST(Trainer, DivergenceNamesTheStepAndParameter) {
  if (!HaveData()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  rigl::TrainConfig c = Small("dense");
  c.lr = 1e20;
  c.momentum = 0.0;
  c.nesterov = false;
  try {
    rigl::Train(c);
    FAIL() << "training with lr 1e20 did not diverge";
  } catch (const engine::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("training diverged"), std::string::npos) << what;
    EXPECT_NE(what.find("at step"), std::string::npos) << what;
    EXPECT_NE(what.find("fc"), std::string::npos) << what;
  }
}

TEST(Config, BadValuesNameTheFlagAndTheRule) {
  struct Case {
    void (*mutate)(rigl::TrainConfig*);
    const char* flag;
  };
  const Case cases[] = {
      {[](rigl::TrainConfig* c) { c->model = "vgg"; }, "--model=vgg"},
      {[](rigl::TrainConfig* c) { c->sparsity = 1.0; }, "--sparsity=1"},
      {[](rigl::TrainConfig* c) { c->sparsity = -0.1; }, "--sparsity=-0.1"},
      {[](rigl::TrainConfig* c) { c->lr = -1; }, "--lr=-1"},
      {[](rigl::TrainConfig* c) { c->batch_size = 0; }, "--batch_size=0"},
      {[](rigl::TrainConfig* c) { c->delta_t = 0; }, "--delta_t=0"},
      {[](rigl::TrainConfig* c) { c->drop_fraction = 1.5; }, "--drop_fraction=1.5"},
      {[](rigl::TrainConfig* c) { c->width = {300, 0}; }, "--width"},
      {[](rigl::TrainConfig* c) { c->threads = 0; }, "--threads=0"},
      {[](rigl::TrainConfig* c) { c->time_budget = -1; }, "--time_budget=-1"},
      {[](rigl::TrainConfig* c) { c->init_fan = "he"; }, "--init_fan=he"},
      // Every other rule of ValidateConfig, one bad value each (issue 23: all of them, not a dozen).
      {[](rigl::TrainConfig* c) { c->model = "resnet50"; }, "--model=resnet50"},  // FLOPs-only model, training asked
      {[](rigl::TrainConfig* c) { c->mobilenet_width = 0.1; }, "0.25 <= mobilenet_width <= 4"},
      {[](rigl::TrainConfig* c) { c->mobilenet_width = 0.5; }, "applies to mobilenet_v1 and mobilenet_v2 only"},
      {[](rigl::TrainConfig* c) { c->flops_shape = "imagenet"; }, "--flops_shape=imagenet without --flops_only"},
      {[](rigl::TrainConfig* c) { c->flops_shape = "cifar"; }, "--flops_shape"},
      {[](rigl::TrainConfig* c) { c->width = {}; }, "--width: empty"},
      {[](rigl::TrainConfig* c) { c->width = {int64_t{1} << 31}; }, "--width: 2147483648"},
      {[](rigl::TrainConfig* c) { c->train_limit = -1; }, "--train_limit=-1"},
      {[](rigl::TrainConfig* c) { c->test_limit = -1; }, "--test_limit=-1"},
      {[](rigl::TrainConfig* c) { c->epochs = 0; }, "--epochs=0"},
      {[](rigl::TrainConfig* c) { c->epochs = 1000001; }, "--epochs=1000001"},
      {[](rigl::TrainConfig* c) { c->batch_size = (int64_t{1} << 20) + 1; }, "--batch_size=1048577"},
      {[](rigl::TrainConfig* c) { c->lr = std::nan(""); }, "--lr=nan"},
      {[](rigl::TrainConfig* c) { c->momentum = 1.0; }, "--momentum=1"},
      {[](rigl::TrainConfig* c) { c->momentum = -0.5; }, "--momentum=-0.5"},
      {[](rigl::TrainConfig* c) { c->weight_decay = -1e-4; }, "--weight_decay=-0.0001"},
      {[](rigl::TrainConfig* c) { c->weight_decay = INFINITY; }, "--weight_decay=inf"},
      {[](rigl::TrainConfig* c) { c->label_smoothing = 1.0; }, "--label_smoothing=1"},
      {[](rigl::TrainConfig* c) { c->lr_schedule = "linear"; }, "--lr_schedule=linear"},
      {[](rigl::TrainConfig* c) { c->lr_milestones = {10, 0}; }, "--lr_milestones: 0"},
      {[](rigl::TrainConfig* c) { c->lr_gamma = 0; }, "--lr_gamma=0"},
      {[](rigl::TrainConfig* c) { c->lr_gamma = 1.5; }, "--lr_gamma=1.5"},
      {[](rigl::TrainConfig* c) { c->warmup_epochs = -1; }, "--warmup_epochs=-1"},
      {[](rigl::TrainConfig* c) { c->distribution = "gaussian"; }, "--distribution=gaussian"},
      {[](rigl::TrainConfig* c) { c->erk_power_scale = -1; }, "--erk_power_scale=-1"},
      {[](rigl::TrainConfig* c) { c->drop_fraction = -0.1; }, "--drop_fraction=-0.1"},
      {[](rigl::TrainConfig* c) { c->t_end = 0; }, "--t_end=0"},
      {[](rigl::TrainConfig* c) { c->t_end = 1.5; }, "--t_end=1.5"},
      {[](rigl::TrainConfig* c) { c->drop_schedule = "linear"; }, "--drop_schedule=linear"},
      {[](rigl::TrainConfig* c) { c->drop_power = 0; }, "--drop_power=0"},
      {[](rigl::TrainConfig* c) { c->multiplier = 0; }, "--multiplier=0"},
      {[](rigl::TrainConfig* c) { c->multiplier = 1001; }, "--multiplier=1001"},
      {[](rigl::TrainConfig* c) { c->epochs = 100000, c->multiplier = 20; }, "--epochs=100000 --multiplier=20"},
      {[](rigl::TrainConfig* c) { c->snfs_momentum = 1; }, "--snfs_momentum=1"},
      {[](rigl::TrainConfig* c) { c->prune_start = 0.8; }, "--prune_start=0.8 --prune_end=0.75"},
      {[](rigl::TrainConfig* c) { c->prune_end = 1.5; }, "--prune_end=1.5"},
      {[](rigl::TrainConfig* c) { c->prune_frequency = 0; }, "--prune_frequency=0"},
      {[](rigl::TrainConfig* c) { c->grow_tile_rows = -1; }, "--grow_tile_rows=-1"},
      {[](rigl::TrainConfig* c) { c->threads = 1025; }, "--threads=1025"},
      {[](rigl::TrainConfig* c) { c->eval_every = 0; }, "--eval_every=0"},
      {[](rigl::TrainConfig* c) { c->checkpoint_every = -1; }, "--checkpoint_every=-1"},
      {[](rigl::TrainConfig* c) { c->stop_after_steps = -1; }, "--stop_after_steps=-1"},
      {[](rigl::TrainConfig* c) { c->stop_after_steps = 5; }, "--stop_after_steps=5 without --out_dir"},
      {[](rigl::TrainConfig* c) { c->time_budget = INFINITY; }, "--time_budget=inf"},
      {[](rigl::TrainConfig* c) { c->progress = "fancy"; }, "--progress=fancy"},
  };
  for (const Case& k : cases) {
    rigl::TrainConfig c;
    k.mutate(&c);
    try {
      rigl::ValidateConfig(c);
      ADD_FAILURE() << k.flag << " was accepted";
    } catch (const engine::Error& e) {
      EXPECT_NE(std::string(e.what()).find(k.flag), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("expected"), std::string::npos) << e.what();
    }
  }
  EXPECT_NO_THROW(rigl::ValidateConfig(rigl::TrainConfig()));
}

}  // namespace
