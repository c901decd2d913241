// Softmax cross-entropy: forward and backward side by side. Per-column work is done in double (classes are few;
// the batch axis is the contiguous one, so columns are strided).
#include "engine/ops/loss.h"

#include <cmath>
#include <memory>

#include "engine/base/check.h"

namespace engine {
namespace {

void CheckLabels(const char* op, const Tensor& logits, const std::vector<int32_t>& labels) {
  ENGINE_CHECK(logits.rank() == 2, op, ": logits have shape ", logits.ShapeString(), "; expected [classes, batch]");
  const int64_t classes = logits.dim(0), batch = logits.dim(1);
  ENGINE_CHECK(static_cast<int64_t>(labels.size()) == batch, op, ": ", labels.size(), " labels given; expected ",
               "batch = ", batch, " (logits are [classes, batch])");
  for (size_t n = 0; n < labels.size(); ++n) {
    ENGINE_CHECK(labels[n] >= 0 && labels[n] < classes, op, ": labels[", n, "] = ", labels[n], "; expected ",
                 "0 <= label < classes = ", classes);
  }
}

}  // namespace

// loss = (1/B) sum_n [logsumexp(z[:, n]) - sum_c q[c, n] z[c, n]]   (since sum_c q = 1).
// dz[c, n] += dloss · (softmax(z[:, n])[c] - q[c, n]) / B.
Variable SoftmaxCrossEntropy(const Variable& logits, const std::vector<int32_t>& labels, float label_smoothing) {
  const Tensor& z = logits.value();
  CheckLabels("SoftmaxCrossEntropy", z, labels);
  ENGINE_CHECK(label_smoothing >= 0 && label_smoothing < 1, "SoftmaxCrossEntropy: label_smoothing = ",
               label_smoothing, "; expected 0 <= label_smoothing < 1");
  const int64_t classes = z.dim(0), batch = z.dim(1);
  ENGINE_CHECK(batch > 0 && classes > 0, "SoftmaxCrossEntropy: logits have shape ", z.ShapeString(),
               "; expected classes > 0 and batch > 0");
  const double off = label_smoothing / static_cast<double>(classes);
  const double on = 1.0 - label_smoothing + off;
  // Softmax probabilities, saved for the backward.
  auto probs = std::make_shared<Tensor>(z.shape());
  std::vector<double> column_loss(batch);
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < batch; ++n) {
    double max_z = z[n];
    for (int64_t c = 1; c < classes; ++c) max_z = std::max(max_z, static_cast<double>(z[c * batch + n]));
    double sum = 0, target_dot = 0;
    for (int64_t c = 0; c < classes; ++c) {
      const double zc = z[c * batch + n];
      sum += std::exp(zc - max_z);
      target_dot += (c == labels[n] ? on : off) * zc;
    }
    for (int64_t c = 0; c < classes; ++c) {
      (*probs)[c * batch + n] = static_cast<float>(std::exp(z[c * batch + n] - max_z) / sum);
    }
    column_loss[n] = max_z + std::log(sum) - target_dot;
  }
  double total = 0;
  for (double l : column_loss) total += l;  // fixed order: thread-count independent
  Tensor loss({1});
  loss[0] = static_cast<float>(total / batch);
  return MakeResult(std::move(loss), {logits}, [logits, probs, labels, on, off](const Tensor& d_loss) {
    const int64_t classes = probs->dim(0), batch = probs->dim(1);
    const double scale = d_loss[0] / static_cast<double>(batch);
    float* d_z = logits.grad().data();
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < classes; ++c) {
      for (int64_t n = 0; n < batch; ++n) {
        const double q = c == labels[n] ? on : off;
        d_z[c * batch + n] += static_cast<float>(scale * ((*probs)[c * batch + n] - q));
      }
    }
  }, "softmax_cross_entropy");
}

int CountCorrect(const Tensor& logits, const std::vector<int32_t>& labels) {
  CheckLabels("CountCorrect", logits, labels);
  const int64_t classes = logits.dim(0), batch = logits.dim(1);
  int correct = 0;
  for (int64_t n = 0; n < batch; ++n) {
    int64_t best = 0;
    for (int64_t c = 1; c < classes; ++c) {
      if (logits[c * batch + n] > logits[best * batch + n]) best = c;
    }
    correct += best == labels[n] ? 1 : 0;
  }
  return correct;
}

}  // namespace engine
