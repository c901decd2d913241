// What the trainer itself does on an iteration, observed in real runs through their checkpoints (issue 12): on a
// topology update t stays frozen for RigL (the update replaces the step) and advances for SET; grown weights start
// at exactly zero with zero momentum; biases are not weight-decayed unless --weight_decay_1d; the learning-rate
// clock matters only to methods whose updates replace optimizer steps.
#include <sys/stat.h>

#include <cmath>
#include <fstream>
#include <map>
#include <utility>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "rigl/checkpoint.h"
#include "rigl/config.h"
#include "tests/rigl/run_fixture.h"
#include "rigl/trainer.h"

namespace {

using testutil::TempDir;

bool HaveData() { return testutil::HaveFashionMnist(); }

rigl::TrainConfig Small(rigl::Method method, const std::string& out) {
  rigl::TrainConfig c;
  c.method = method;
  c.train_limit = 768;
  c.test_limit = 200;
  c.batch_size = 64;
  c.epochs = 2;
  c.width = {64, 32};
  c.sparsity = 0.8;
  c.delta_t = 4;
  c.threads = 2;
  c.seed = 11;
  c.progress = "none";
  c.out_dir = TempDir(out);
  c.overwrite = true;
  return c;
}

struct SparseLayer {
  std::string name;
  int64_t cols = 0;
  std::vector<int64_t> offsets;
  std::vector<int32_t> indices;
  std::vector<float> values, momentum;
  std::vector<int64_t> last_grown;
};

std::vector<SparseLayer> ReadSparseLayers(const std::string& checkpoint) {
  const rigl::CheckpointReader r(checkpoint);
  std::vector<SparseLayer> layers;
  for (const auto& [name, shape] : r.meta().at("sparse_shapes").items()) {
    SparseLayer l;
    l.name = name;
    l.cols = shape.at(1).get<int64_t>();
    l.offsets = r.Int64s(name + ".row_offsets");
    l.indices = r.Int32s(name + ".col_indices");
    l.values = r.Floats(name + ".values");
    l.momentum = r.Floats("optim:" + name + ".momentum");
    l.last_grown = r.Int64s("history:" + name + ".last_grown");
    layers.push_back(std::move(l));
  }
  return layers;
}

// The checkpoint written when the run stops right after an update iteration: every position that update grew is
// stored, holds exactly 0 and has exactly 0 momentum.
void ExpectGrownAtZero(const std::string& checkpoint) {
  int64_t grown = 0;
  for (const SparseLayer& l : ReadSparseLayers(checkpoint)) {
    for (int64_t flat : l.last_grown) {
      const int64_t row = flat / l.cols, col = flat % l.cols;
      int64_t q = l.offsets[row];
      while (q < l.offsets[row + 1] && l.indices[q] != col) ++q;
      ASSERT_LT(q, l.offsets[row + 1]) << l.name << ": grown position " << flat << " is not stored";
      EXPECT_EQ(l.values[q], 0.0f) << l.name << " position " << flat;
      EXPECT_EQ(l.momentum[q], 0.0f) << l.name << " position " << flat;
      ++grown;
    }
  }
  EXPECT_GT(grown, 0) << "the update grew nothing: the test would prove nothing";
}

TEST(TrainerIterations, RiglUpdateFreezesTAndGrowsAtZero) {
  if (!HaveData()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  // dT = 4, updates replace the step: iteration 0 updates at t = 0, iterations 1-4 step to t = 4, iteration 5
  // updates at t = 4 (RIGL.md 5(f)'s pattern). Stopping after 6 iterations ends on that update.
  rigl::TrainConfig c = Small(rigl::Method::kRigl, "rigl_update");
  c.stop_after_steps = 6;
  const rigl::TrainSummary s = rigl::Train(c);
  EXPECT_EQ(s.iterations, 6);
  EXPECT_EQ(s.updates, 2);
  EXPECT_EQ(s.steps, 4) << "t must not advance on the two update iterations";
  ExpectGrownAtZero(c.out_dir + "/checkpoint.bin");
}

TEST(TrainerIterations, SetUpdateFollowsTheStepAndGrowsAtZero) {
  if (!HaveData()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  // SET steps every iteration and updates on the post-increment t: t = 1 (iteration 0) and t = 5 (iteration 4).
  rigl::TrainConfig c = Small(rigl::Method::kSet, "set_update");
  c.stop_after_steps = 5;
  const rigl::TrainSummary s = rigl::Train(c);
  EXPECT_EQ(s.iterations, 5);
  EXPECT_EQ(s.updates, 2);
  EXPECT_EQ(s.steps, 5);
  ExpectGrownAtZero(c.out_dir + "/checkpoint.bin");
}

std::map<std::string, std::vector<float>> DenseBlobs(const std::string& checkpoint,
                                                     const std::vector<std::string>& names) {
  const rigl::CheckpointReader r(checkpoint);
  std::map<std::string, std::vector<float>> out;
  for (const std::string& n : names) out[n] = r.Floats(n);
  return out;
}

TEST(TrainerIterations, BiasesAreDecayedOnlyWithWeightDecay1d) {
  if (!HaveData()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  // Dense MLP, plain SGD at a constant lr, two iterations. Biases start at 0, so the first step is the same with or
  // without their decay; the kernels (decayed in both runs) stay identical, so the second step's gradients are
  // identical and the biases differ by exactly the decay term: b2(decayed) - b2(not) = -lr * wd * b1.
  auto config = [](const std::string& out, bool decay_1d, int64_t stop) {
    rigl::TrainConfig c = Small(rigl::Method::kDense, out);
    c.train_limit = 128;
    c.epochs = 1;
    c.momentum = 0;
    c.nesterov = false;
    c.lr_schedule = "constant";
    c.lr = 0.1;
    c.weight_decay = 0.05;
    c.weight_decay_1d = decay_1d;
    c.stop_after_steps = stop;
    return c;
  };
  const std::vector<std::string> biases = {"fc1.bias", "fc2.bias", "fc3.bias"};
  const std::vector<std::string> kernels = {"fc1.weight", "fc2.weight", "fc3.weight"};
  rigl::Train(config("decay_b1", false, 1));
  const auto b1 = DenseBlobs(TempDir("decay_b1") + "/checkpoint.bin", biases);
  rigl::Train(config("decay_off", false, 0));
  rigl::Train(config("decay_on", true, 0));
  const auto off = DenseBlobs(TempDir("decay_off") + "/checkpoint.bin", biases);
  const auto on = DenseBlobs(TempDir("decay_on") + "/checkpoint.bin", biases);
  EXPECT_EQ(DenseBlobs(TempDir("decay_off") + "/checkpoint.bin", kernels),
            DenseBlobs(TempDir("decay_on") + "/checkpoint.bin", kernels));
  double largest = 0;
  for (const std::string& n : biases) {
    ASSERT_EQ(b1.at(n).size(), off.at(n).size());
    for (size_t i = 0; i < b1.at(n).size(); ++i) {
      const double expected = -0.1 * 0.05 * b1.at(n)[i];
      EXPECT_NEAR(on.at(n)[i] - off.at(n)[i], expected, 1e-7 + 1e-3 * std::fabs(expected)) << n << "[" << i << "]";
      largest = std::max(largest, std::fabs(expected));
    }
  }
  EXPECT_GT(largest, 1e-6) << "the biases barely moved: the test would prove nothing";
}

double LastLr(const std::string& dir) {
  std::ifstream in(dir + "/metrics.jsonl");
  std::string line, last;
  while (std::getline(in, line)) last = line;
  return nlohmann::json::parse(last).at("lr").get<double>();
}

TEST(TrainerIterations, LrClockMattersOnlyWhenUpdatesReplaceSteps) {
  if (!HaveData()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  auto run = [](rigl::Method m, const std::string& clock) {
    rigl::TrainConfig c = Small(m, std::string(rigl::MethodName(m)) + "_" + clock);
    c.lr_clock = clock;
    const rigl::TrainSummary summary = rigl::Train(c);
    return std::make_pair(summary, LastLr(c.out_dir));
  };
  // Static and SET take an optimizer step on every batch (t == batches), so the clocks agree bit for bit.
  for (rigl::Method m : {rigl::Method::kStatic, rigl::Method::kSet}) {
    EXPECT_EQ(run(m, "step").first.weights_fingerprint, run(m, "batch").first.weights_fingerprint)
        << rigl::MethodName(m);
  }
  // RigL's update iterations take no step: by the end t trails the batch count, so under a cosine schedule the
  // step clock's learning rate is the higher one, and the runs differ.
  const auto [step_summary, step_lr] = run(rigl::Method::kRigl, "step");
  const auto [batch_summary, batch_lr] = run(rigl::Method::kRigl, "batch");
  EXPECT_LT(step_summary.steps, step_summary.iterations);
  EXPECT_GT(step_lr, batch_lr);
  EXPECT_NE(step_summary.weights_fingerprint, batch_summary.weights_fingerprint);
}

TEST(TrainerIterations, OlderCheckpointsKeepTheirBehaviour) {
  // A config saved before 0.2.0 lacks the two keys whose defaults changed: reading it must give the old behaviour.
  nlohmann::json j = rigl::ConfigToJson(rigl::TrainConfig());
  j.erase("weight_decay_1d");
  j.erase("lr_clock");
  const rigl::TrainConfig c = rigl::ConfigFromJson(j);
  EXPECT_TRUE(c.weight_decay_1d);
  EXPECT_EQ(c.lr_clock, "batch");
  // A current config round-trips with the new defaults.
  const rigl::TrainConfig d = rigl::ConfigFromJson(rigl::ConfigToJson(rigl::TrainConfig()));
  EXPECT_FALSE(d.weight_decay_1d);
  EXPECT_EQ(d.lr_clock, "step");
}

}  // namespace

namespace {

// A run stopped after its last checkpoint but before its summary (killed in that window) resumes with nothing left
// to train; its summary must still be the uninterrupted run's: the same weights, test accuracy and loss (the final
// evaluation is redone on the same weights) and the last epoch's training figures from the checkpointed metrics.
TEST(TrainerIterations, ResumingAFinishedRunGivesTheSameSummary) {
  if (!HaveData()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  rigl::TrainConfig c = Small(rigl::Method::kRigl, "finished_run");
  const rigl::TrainSummary whole = rigl::Train(c);
  ASSERT_FALSE(std::isnan(whole.test_accuracy));
  rigl::TrainConfig again = c;
  again.resume = c.out_dir + "/checkpoint.bin";  // written at the end of the last epoch
  const rigl::TrainSummary resumed = rigl::Train(again);
  EXPECT_EQ(resumed.start_iteration, whole.iterations) << "the checkpoint is not the last epoch's";
  EXPECT_EQ(resumed.weights_fingerprint, whole.weights_fingerprint);
  EXPECT_EQ(resumed.test_accuracy, whole.test_accuracy);
  EXPECT_EQ(resumed.test_loss, whole.test_loss);
  EXPECT_EQ(resumed.final_train_loss, whole.final_train_loss);
  EXPECT_EQ(resumed.train_accuracy, whole.train_accuracy);
}

}  // namespace
