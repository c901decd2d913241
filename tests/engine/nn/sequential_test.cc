// Sequential: child order and parameter collection, and an end-to-end check that an MLP with a sparse and a dense
// layer learns a linearly separable synthetic problem with SGD (the loss falls; behaviour, not timing).
#include "engine/nn/sequential.h"

#include <cstdio>

#include <gtest/gtest.h>

#include "engine/base/parallel.h"
#include "engine/base/rng.h"
#include "engine/nn/activations.h"
#include "engine/nn/linear.h"
#include "engine/ops/loss.h"
#include "engine/optim/sgd.h"

namespace engine::nn {
namespace {

std::unique_ptr<Sequential> Mlp(uint64_t seed) {
  auto net = std::make_unique<Sequential>();
  net->Emplace<Linear>("fc1", /*in=*/16, /*out=*/32, WeightStorage::Sparse(154), seed);  // ~0.3 of 512
  net->Emplace<ReluModule>();
  net->Emplace<Linear>("fc2", 32, 3, WeightStorage::Dense(), seed);
  return net;
}

TEST(SequentialTest, CollectsParametersInOrder) {
  auto net = Mlp(1);
  ParameterList params;
  net->CollectParameters(&params);
  ASSERT_EQ(params.sparse.size(), 1u);
  ASSERT_EQ(params.dense.size(), 3u);
  EXPECT_EQ(params.sparse[0]->name, "fc1.weight");
  EXPECT_EQ(params.dense[0]->name, "fc1.bias");
  EXPECT_EQ(params.dense[1]->name, "fc2.weight");
  EXPECT_EQ(params.dense[2]->name, "fc2.bias");
}

TEST(SequentialTest, SetTrainingReachesChildren) {
  auto net = Mlp(1);
  net->SetTraining(false);
  for (int64_t i = 0; i < net->size(); ++i) EXPECT_FALSE(net->child(i)->training());
}

// Three classes, label = arg-max of three fixed random projections of the input: separable by a linear model.
void MakeBatch(Rng& rng, Tensor* x, std::vector<int32_t>* labels) {
  const int64_t batch = 64;
  *x = Tensor({16, batch});
  labels->assign(batch, 0);
  Rng proj_rng(77);
  std::vector<float> proj(3 * 16);
  for (float& p : proj) p = proj_rng.UniformFloat(-1, 1);
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t f = 0; f < 16; ++f) (*x)[f * batch + n] = rng.UniformFloat(-1, 1);
    float best = -1e30f;
    for (int c = 0; c < 3; ++c) {
      float s = 0;
      for (int64_t f = 0; f < 16; ++f) s += proj[c * 16 + f] * (*x)[f * batch + n];
      if (s > best) best = s, (*labels)[n] = c;
    }
  }
}

TEST(SequentialTest, SparseMlpLearnsSeparableProblem) {
  auto net = Mlp(3);
  ParameterList params;
  net->CollectParameters(&params);
  Sgd sgd(params, SgdOptions{0.9f, false, 1e-4f});
  Rng data_rng(5);
  Tensor x;
  std::vector<int32_t> labels;
  float first_loss = 0, last_loss = 0;
  const int kSteps = 50;
  for (int step = 0; step < kSteps; ++step) {
    MakeBatch(data_rng, &x, &labels);
    sgd.ZeroGrad();
    Variable loss = SoftmaxCrossEntropy(net->Forward(Constant(x)), labels);
    Backward(loss);
    sgd.Step(0.1f);
    if (step == 0) first_loss = loss.value()[0];
    last_loss = loss.value()[0];
  }
  // Fresh data: loss well below the chance-level start and accuracy well above 1/3.
  MakeBatch(data_rng, &x, &labels);
  net->SetTraining(false);
  Variable logits = net->Forward(Constant(x));
  const float eval_loss = SoftmaxCrossEntropy(logits, labels).value()[0];
  EXPECT_LT(last_loss, 0.6f * first_loss) << "first " << first_loss << ", last " << last_loss;
  std::printf("loss: first %.4f, last %.4f, eval %.4f\n", first_loss, last_loss, eval_loss);
  EXPECT_LT(eval_loss, 0.6f * first_loss);
  EXPECT_GE(CountCorrect(logits.value(), labels), 48);  // >= 75% of 64
}

// Wide enough that every kernel takes its parallel path (the kernels run one thread below nnz x batch = 2^19, see
// WorthThreads in spmm_tile.h, and Gemm splits only products above 8 MFLOP): a sparse 16 -> 2048 layer (about 9800
// nonzeros x 64 columns), a dense 2048 -> 256 layer (67 MFLOP, 16 Gemm blocks), a dense 256 -> 3 output.
std::unique_ptr<Sequential> WideMlp(uint64_t seed) {
  auto net = std::make_unique<Sequential>();
  net->Emplace<Linear>("fc1", 16, 2048, WeightStorage::Sparse(9830), seed);  // ~0.3 of 32768
  net->Emplace<ReluModule>();
  net->Emplace<Linear>("fc2", 2048, 256, WeightStorage::Dense(), seed);
  net->Emplace<ReluModule>();
  net->Emplace<Linear>("fc3", 256, 3, WeightStorage::Dense(), seed);
  return net;
}

// Five SGD steps of WideMlp with the given thread count; returns all parameter values.
std::vector<float> TrainFiveSteps(int threads) {
  SetNumThreads(threads);
  auto net = WideMlp(4);
  ParameterList params;
  net->CollectParameters(&params);
  Sgd sgd(params, SgdOptions{0.9f, true, 1e-4f});
  Rng data_rng(6);
  Tensor x;
  std::vector<int32_t> labels;
  for (int step = 0; step < 5; ++step) {
    MakeBatch(data_rng, &x, &labels);
    sgd.ZeroGrad();
    Backward(SoftmaxCrossEntropy(net->Forward(Constant(x)), labels, 0.1f));
    sgd.Step(0.1f);
  }
  std::vector<float> out;
  for (SparseParameter* p : params.sparse) out.insert(out.end(), p->weight().values().begin(), p->weight().values().end());
  for (DenseParameter* p : params.dense) {
    out.insert(out.end(), p->var.value().data(), p->var.value().data() + p->var.value().size());
  }
  return out;
}

TEST(SequentialTest, TrainingIsBitIdenticalAcrossThreadCounts) {
  {  // the test means nothing unless the sparse kernels really run in parallel
    auto net = WideMlp(4);
    ParameterList params;
    net->CollectParameters(&params);
    ASSERT_GE(params.sparse.at(0)->weight().nnz() * 64, int64_t{1} << 19);
  }
  const std::vector<float> one = TrainFiveSteps(1);
  const std::vector<float> two = TrainFiveSteps(2);
  ASSERT_EQ(one.size(), two.size());
  for (size_t i = 0; i < one.size(); ++i) ASSERT_EQ(one[i], two[i]) << "parameter value " << i;
}

}  // namespace
}  // namespace engine::nn
