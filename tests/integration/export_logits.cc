// Test helper of torch_roundtrip_test.sh: the engine's side of a PyTorch comparison. Builds the network the trainer's
// flags describe, loads the safetensors file --init_from into it with rigl::ImportNetwork (as the trainer does),
// evaluates the Fashion-MNIST test set in inference mode and prints one JSON object: {"accuracy": fraction over
// --test_limit images (0 = all), "logits": the logits of the first --count test images, one row each}.
//   export_logits --model=lenet5 --method=rigl --sparsity=0.9 --init_from=model.safetensors --count=16
#include <algorithm>
#include <cstdio>

#include <gflags/gflags.h>
#include <nlohmann/json.hpp>

#include "engine/autograd/variable.h"
#include "engine/base/check.h"
#include "engine/data/batcher.h"
#include "engine/data/dataset.h"
#include "engine/ops/loss.h"
#include "models/networks.h"
#include "rigl/config.h"
#include "rigl/export.h"
#include "rigl/plan.h"

DEFINE_int32(count, 16, "test images whose logits are printed");

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, /*remove_flags=*/true);
  try {
    const rigl::TrainConfig c = rigl::ConfigFromFlags();
    ENGINE_CHECK(!c.init_from.empty(), "export_logits: --init_from is empty; expected a .safetensors file");
    models::Network net = models::BuildNetwork(rigl::MakeSparsityPlan(c).network);
    rigl::ImportNetwork(c.init_from, &net, rigl::ModelFlags(c));
    engine::data::TrainTestSplit data = engine::data::LoadFashionMnist(c.data_dir, /*normalize=*/true);
    const int64_t n = c.test_limit > 0 ? std::min(c.test_limit, data.test.num_samples()) : data.test.num_samples();
    engine::data::BatcherOptions bo;
    bo.batch_size = 500;  // not the trainer's 1000: the comparison must not hang on one batch split
    bo.shuffle = false;
    bo.layout = net.channel_major_input ? engine::data::BatchLayout::kChannelMajor
                                        : engine::data::BatchLayout::kFeatureMajor;
    engine::data::Batcher batcher(data.test, bo);
    engine::NoGradGuard no_grad;
    net.module->SetTraining(false);
    nlohmann::json logits = nlohmann::json::array();
    int64_t correct = 0, seen = 0;
    engine::data::Batch b;
    for (int64_t i = 0; i < batcher.batches_per_epoch() && seen < n; ++i) {
      batcher.GetBatch(0, i, &b);
      const engine::Tensor out = net.module->Forward(engine::Constant(b.x)).value();  // [classes, batch]
      const int64_t classes = out.dim(0), batch = out.dim(1);
      for (int64_t s = 0; s < batch && seen < n; ++s, ++seen) {
        int64_t best = 0;
        nlohmann::json row = nlohmann::json::array();
        for (int64_t k = 0; k < classes; ++k) {
          const float v = out[k * batch + s];
          if (v > out[best * batch + s]) best = k;
          row.push_back(v);
        }
        correct += best == b.labels[s];
        if (seen < FLAGS_count) logits.push_back(row);
      }
    }
    std::printf("%s\n", nlohmann::json{{"accuracy", static_cast<double>(correct) / static_cast<double>(n)},
                                       {"logits", logits}}.dump().c_str());
    return 0;
  } catch (const engine::Error& e) {
    std::fprintf(stderr, "export_logits: %s\n", engine::Describe(e).c_str());
    return 1;
  }
}
