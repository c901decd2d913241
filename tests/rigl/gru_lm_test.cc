// The character-level GRU language model through the whole trainer (issue 22), on small generated texts: every
// method and both distributions train it at the planned densities; a deterministic text is learned (its entropy is
// 0 bits, so the bits per character must fall far below the 8 of a uniform guess); a run stopped and resumed equals
// the uninterrupted one bit for bit (RigL, Adam, clipping); 1 and 2 threads give the same weights; the theoretical
// FLOPs are the per-step formula times the sequence length; the clip and the Adam step act as written.
#include <cmath>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/base/check.h"
#include "models/flops.h"
#include "rigl/config.h"
#include "rigl/trainer.h"
#include "tests/rigl/run_fixture.h"

namespace {

using testutil::TempDir;

// A text whose next byte is a function of the previous one (a fixed cycle of 13 letters): a model that learns it
// predicts every byte but the first of a sequence with certainty.
std::string CycleText(int64_t bytes) {
  const std::string cycle = "the quick fox";
  std::string s;
  for (int64_t i = 0; i < bytes; ++i) s += cycle[static_cast<size_t>(i) % cycle.size()];
  return s;
}

std::string WriteText(const std::string& name, const std::string& text) {
  const std::string path = TempDir("texts") + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

rigl::TrainConfig Tiny(rigl::Method method, const std::string& text_file) {
  rigl::TrainConfig c;
  c.model = "gru_lm";
  c.text_file = text_file;
  c.method = method;
  c.sparsity = 0.75;
  c.distribution = "uniform";
  c.embedding_dim = 16;
  c.gru_hidden = 32;
  c.readout = {32, 16};
  c.seq_len = 24;
  c.batch_size = 8;
  c.epochs = 2;
  c.optimizer = "adam";
  c.lr = 1e-2;
  c.weight_decay = 5e-4;
  c.clip_grad_norm = 10;
  c.delta_t = 3;
  c.drop_fraction = 0.1;
  c.prune_frequency = 3;
  c.threads = 2;
  c.seed = 3;
  c.progress = "none";
  return c;
}

TEST(GruLmTrainerTest, EveryMethodAndDistributionTrainsAtThePlannedDensity) {
  const std::string text = WriteText("random.txt", [] {
    std::string s;
    uint64_t x = 12345;
    for (int i = 0; i < 12000; ++i) s += static_cast<char>(' ' + ((x = x * 6364136223846793005ull + 1) >> 58));
    return s;
  }());
  for (const char* distribution : {"uniform", "erk"}) {
    for (rigl::Method m : {rigl::Method::kDense, rigl::Method::kStatic, rigl::Method::kSet, rigl::Method::kRigl,
                           rigl::Method::kPruning, rigl::Method::kSnfs, rigl::Method::kSnip,
                           rigl::Method::kSmallDense}) {
      rigl::TrainConfig c = Tiny(m, text);
      c.distribution = distribution;
      c.epochs = 1;
      rigl::ValidateConfig(c);
      const rigl::TrainSummary s = rigl::Train(c);
      const std::string what = std::string(rigl::MethodName(m)) + " " + distribution;
      EXPECT_TRUE(s.language_model) << what;
      EXPECT_TRUE(std::isfinite(s.test_loss) && std::isfinite(s.valid_loss)) << what;
      // 64 symbols drawn uniformly: about 6 bits each; a model this short must sit near that, below a uniform 8.
      EXPECT_LT(s.valid_loss / std::log(2.0), 8.0) << what;
      EXPECT_GT(s.valid_loss / std::log(2.0), 5.0) << what;
      const bool sparse = m != rigl::Method::kDense && m != rigl::Method::kSmallDense;
      // Pruning reaches its target at prune_end; the others hold it from the start.
      if (sparse) {
        EXPECT_NEAR(s.realised_sparsity, 0.75, 0.01) << what;
      }
      if (m == rigl::Method::kRigl || m == rigl::Method::kSet) {
        EXPECT_GT(s.updates, 0) << what;
      }
    }
  }
}

TEST(GruLmTrainerTest, LearnsADeterministicText) {
  rigl::TrainConfig c = Tiny(rigl::Method::kRigl, WriteText("cycle.txt", CycleText(20000)));
  c.epochs = 3;
  const rigl::TrainSummary s = rigl::Train(c);
  const double bpc = s.test_loss / std::log(2.0);
  EXPECT_LT(bpc, 1.0) << "a 13-byte cycle is 0 bits per character once learned";
  EXPECT_GT(s.test_accuracy, 0.9);
}

TEST(GruLmTrainerTest, ResumeIsBitExactAndThreadsDoNotMatter) {
  const std::string text = WriteText("cycle2.txt", CycleText(9000));
  rigl::TrainConfig full = Tiny(rigl::Method::kRigl, text);
  full.clip_grad_norm = 0.5;  // small enough to clip: the clipped path is part of the replay
  full.out_dir = TempDir("full");
  full.overwrite = true;
  const rigl::TrainSummary a = rigl::Train(full);
  EXPECT_GT(a.clipped_steps, 0);
  rigl::TrainConfig part = full;
  part.out_dir = TempDir("part");
  part.stop_after_steps = 13;  // mid-epoch, between topology updates
  rigl::Train(part);
  rigl::TrainConfig rest = part;
  rest.stop_after_steps = 0;
  rest.resume = part.out_dir + "/checkpoint.bin";
  rest.overwrite = false;
  const rigl::TrainSummary b = rigl::Train(rest);
  EXPECT_EQ(a.weights_fingerprint, b.weights_fingerprint);
  EXPECT_EQ(a.test_loss, b.test_loss);
  EXPECT_EQ(a.valid_loss, b.valid_loss);
  rigl::TrainConfig one = full;
  one.threads = 1;
  one.out_dir.clear();
  EXPECT_EQ(rigl::Train(one).weights_fingerprint, a.weights_fingerprint);
  // summary.json carries the language-model figures.
  const nlohmann::json j = nlohmann::json::parse(testutil::ReadFile(full.out_dir + "/summary.json"));
  EXPECT_NEAR(j.at("test_bpc").get<double>(), a.test_loss / std::log(2.0), 1e-12);
  EXPECT_NEAR(j.at("valid_bpc").get<double>(), a.valid_loss / std::log(2.0), 1e-12);
}

TEST(GruLmTrainerTest, TheoreticalFlopsAreThePerStepFormulaTimesTheSequenceLength) {
  rigl::TrainConfig c = Tiny(rigl::Method::kStatic, WriteText("cycle3.txt", CycleText(6000)));
  c.epochs = 1;
  const rigl::TrainSummary s = rigl::Train(c);
  // By hand (RIGL.md 4.1: cout (2 cin d + 1) per layer and step; training 3x for Static): layers [48x16], [96x32]
  // (3H x E, 3H x H), [32x32], [16x32], [256x16], every one at density 0.25, 24 steps per sequence.
  const double d = 0.25;
  const double per_step = 96 * (2 * 16 * d + 1) + 96 * (2 * 32 * d + 1) + 32 * (2 * 32 * d + 1) +
                          16 * (2 * 32 * d + 1) + 256 * (2 * 16 * d + 1);
  // 6000 bytes: 5400 for training -> (5400 - 1) / 24 = 224 sequences in one epoch.
  EXPECT_DOUBLE_EQ(s.theoretical_train_flops, 3 * per_step * 24 * 224);
  const double dense_step = 96 * (2 * 16 + 1) + 96 * (2 * 32 + 1) + 32 * (2 * 32 + 1) + 16 * (2 * 32 + 1) +
                            256 * (2 * 16 + 1);
  EXPECT_DOUBLE_EQ(s.dense_train_flops, 3 * dense_step * 24 * 224);
}

TEST(GruLmTrainerTest, BadTextAndFlagCombinationsAreRefusedByName) {
  rigl::TrainConfig c = Tiny(rigl::Method::kRigl, "/nonexistent/text.txt");
  try {
    rigl::Train(c);
    ADD_FAILURE() << "no error for a missing text file";
  } catch (const engine::Error& e) {
    EXPECT_NE(std::string(e.what()).find("--text_file=/nonexistent/text.txt: no such file"), std::string::npos)
        << e.what();
  }
  c.text_file = WriteText("short.txt", "too short for one sequence");
  EXPECT_THROW(rigl::Train(c), engine::Error);
  rigl::TrainConfig blocked = Tiny(rigl::Method::kRigl, c.text_file);
  blocked.block = "4x1";
  EXPECT_THROW(rigl::ValidateConfig(blocked), engine::Error);
  blocked.block = "1x1";
  blocked.distribution = "mnist";
  EXPECT_THROW(rigl::ValidateConfig(blocked), engine::Error);
}

}  // namespace
