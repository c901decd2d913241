// Central-difference gradient checker (see gradcheck.h).
#include "engine/autograd/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "engine/base/check.h"
#include "engine/base/rng.h"

namespace engine {

GradCheckInput LeafInput(const Variable& leaf) {
  ENGINE_CHECK(leaf.requires_grad(), "LeafInput(", leaf.name(), "): variable requires no gradient; expected a Leaf");
  Variable v = leaf;
  return {leaf.name(), v.value().data(), v.value().size(), [v]() -> const float* { return v.grad().data(); }};
}

namespace {

double WeightedSum(const Tensor& y, const Tensor& r) {
  double s = 0;
  for (int64_t i = 0; i < y.size(); ++i) s += static_cast<double>(y[i]) * r[i];
  return s;
}

}  // namespace

GradCheckReport GradCheck(const std::function<Variable()>& forward, const std::vector<GradCheckInput>& inputs,
                          const GradCheckOptions& options) {
  ENGINE_CHECK(options.eps > 0, "GradCheck: eps = ", options.eps, " given; expected > 0");
  // Analytic pass.
  Variable y = forward();
  Tensor r(y.shape());
  Rng rng(options.seed);
  for (int64_t i = 0; i < r.size(); ++i) r[i] = rng.UniformFloat(-1.0f, 1.0f);
  Backward(y, r);
  std::vector<std::vector<float>> analytic;
  for (const GradCheckInput& in : inputs) {
    const float* g = in.analytic_grad();
    analytic.emplace_back(g, g + in.size);
  }
  // Numeric pass, one element at a time.
  GradCheckReport report;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const GradCheckInput& in = inputs[k];
    for (int64_t i = 0; i < in.size; ++i) {
      const float saved = in.data[i];
      const float x_plus = static_cast<float>(saved + options.eps);
      const float x_minus = static_cast<float>(saved - options.eps);
      in.data[i] = x_plus;
      const double plus = WeightedSum(forward().value(), r);
      in.data[i] = x_minus;
      const double minus = WeightedSum(forward().value(), r);
      in.data[i] = saved;
      // Divide by the step actually taken in float, not the nominal 2 * eps.
      const double numeric = (plus - minus) / (static_cast<double>(x_plus) - x_minus);
      const double a = analytic[k][i];
      const double err = std::abs(a - numeric);
      report.max_abs_error = std::max(report.max_abs_error, err);
      ++report.checked;
      if (report.ok && err > options.atol + options.rtol * std::max(std::abs(a), std::abs(numeric))) {
        report.ok = false;
        std::ostringstream msg;
        msg << in.name << "[" << i << "]: analytic " << a << ", numeric " << numeric;
        report.first_failure = msg.str();
      }
    }
  }
  return report;
}

}  // namespace engine
