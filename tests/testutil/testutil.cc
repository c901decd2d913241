// Test helpers (see testutil.h).
#include "tests/testutil/testutil.h"

#include <spawn.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "engine/kernels/blas_core.h"

namespace testutil {

engine::Tensor RandomDense(std::vector<int64_t> shape, Rng& rng) {
  engine::Tensor t(std::move(shape));
  for (int64_t i = 0; i < t.size(); ++i) t[i] = rng.UniformFloat(-1.0f, 1.0f);
  return t;
}

engine::CsrMatrix RandomCsr(int64_t m, int64_t k, double density, Rng& rng) {
  const int64_t nnz = static_cast<int64_t>(std::llround(density * static_cast<double>(m * k)));
  engine::CsrMatrix a = engine::CsrMatrix::RandomPattern(m, k, nnz, rng);
  for (float& v : a.mutable_values()) v = rng.UniformFloat(-1.0f, 1.0f);
  return a;
}

engine::BsrMatrix RandomBsr(int64_t m, int64_t k, int64_t br, int64_t bc, double density, Rng& rng) {
  const int64_t grid = ((m + br - 1) / br) * ((k + bc - 1) / bc);
  const int64_t blocks = static_cast<int64_t>(std::llround(density * static_cast<double>(grid)));
  engine::BsrMatrix a = engine::BsrMatrix::RandomPattern(m, k, br, bc, blocks, rng);
  a.FillEntries([&rng] { return rng.UniformFloat(-1.0f, 1.0f); });
  return a;
}

DenseF64 ToF64(const engine::Tensor& t) {
  DenseF64 d;
  const engine::ConstDenseView v = t.view();
  d.rows = v.rows;
  d.cols = v.cols;
  d.data.assign(t.data(), t.data() + t.size());
  return d;
}

DenseF64 MatmulF64(const DenseF64& a, const DenseF64& b, bool transpose_a, bool transpose_b) {
  const int64_t m = transpose_a ? a.cols : a.rows;
  const int64_t k = transpose_a ? a.rows : a.cols;
  const int64_t n = transpose_b ? b.rows : b.cols;
  DenseF64 c;
  c.rows = m;
  c.cols = n;
  c.data.assign(m * n, 0.0);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t t = 0; t < k; ++t) {
      const double a_it = transpose_a ? a.at(t, i) : a.at(i, t);
      if (a_it == 0.0) continue;
      for (int64_t j = 0; j < n; ++j) c.data[i * n + j] += a_it * (transpose_b ? b.at(j, t) : b.at(t, j));
    }
  }
  return c;
}

::testing::AssertionResult AllClose(const engine::Tensor& actual, const DenseF64& expected, double atol,
                                    double rtol) {
  const engine::ConstDenseView v = actual.view();
  if (v.rows != expected.rows || v.cols != expected.cols) {
    return ::testing::AssertionFailure() << "shape " << v.rows << " x " << v.cols << " vs expected "
                                         << expected.rows << " x " << expected.cols;
  }
  for (int64_t i = 0; i < v.rows; ++i) {
    for (int64_t j = 0; j < v.cols; ++j) {
      const double e = expected.at(i, j), a = v.at(i, j);
      if (!(std::fabs(a - e) <= atol + rtol * std::fabs(e))) {
        return ::testing::AssertionFailure() << "first mismatch at (" << i << ", " << j << "): got " << a
                                             << ", expected " << e;
      }
    }
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult AllClose(const std::vector<float>& actual, const std::vector<double>& expected,
                                    double atol, double rtol) {
  if (actual.size() != expected.size()) {
    return ::testing::AssertionFailure() << "size " << actual.size() << " vs expected " << expected.size();
  }
  for (size_t i = 0; i < actual.size(); ++i) {
    if (!(std::fabs(actual[i] - expected[i]) <= atol + rtol * std::fabs(expected[i]))) {
      return ::testing::AssertionFailure() << "first mismatch at [" << i << "]: got " << actual[i] << ", expected "
                                           << expected[i];
    }
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult BitIdentical(const float* a, const float* b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) {
      return ::testing::AssertionFailure() << "first difference at [" << i << "]: " << a[i] << " vs " << b[i];
    }
  }
  return ::testing::AssertionSuccess();
}

void ExpectPassesUnderEveryBlasCore(const std::string& gtest_filter) {
  using engine::kernels::FamilyOfCore;
  for (const char* core : {"Prescott", "Sandybridge", "Haswell", "Zen", "SkylakeX"}) {
    if (FamilyOfCore(core) > engine::kernels::CpuBlasFamily()) {
      std::printf("[ SKIPPED  ] OpenBLAS core %s: this CPU lacks %s\n", core,
                  engine::kernels::BlasFamilyName(FamilyOfCore(core)));
      continue;
    }
    EXPECT_EQ(RunSelf(gtest_filter, {{"ENGINE_OPENBLAS_CORE", core}}), 0)
        << gtest_filter << " failed under OpenBLAS core " << core << " (its output is above)";
  }
}

void ExpectForcedBlasCore() {
  const char* forced = std::getenv("ENGINE_OPENBLAS_CORE");
  if (forced == nullptr || engine::kernels::FamilyOfCore(forced) == engine::kernels::BlasFamily::kUnknown) return;
  EXPECT_EQ(strcasecmp(engine::kernels::OpenBlasCoreName().c_str(), forced), 0)
      << "ENGINE_OPENBLAS_CORE=" << forced << " but OpenBLAS runs " << engine::kernels::OpenBlasCoreName();
}

int RunSelf(const std::string& gtest_filter, const std::vector<std::pair<std::string, std::string>>& env) {
  char exe[PATH_MAX];
  const ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (len <= 0) return -1;
  exe[len] = '\0';
  // The child's environment: ours with `env` applied, without the test runner's per-test files and sharding (the
  // child must not overwrite this test's XML report or premature-exit marker, nor run only a shard of its filter).
  std::vector<std::string> vars;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string var = *e;
    bool replaced = false;
    for (const char* runner : {"XML_OUTPUT_FILE=", "GTEST_OUTPUT=", "TEST_PREMATURE_EXIT_FILE=", "GTEST_SHARD_",
                               "TEST_SHARD_", "TEST_TOTAL_SHARDS=", "TEST_WARNINGS_OUTPUT_FILE="}) {
      replaced |= var.rfind(runner, 0) == 0;
    }
    for (const auto& [name, value] : env) replaced |= var.rfind(name + "=", 0) == 0;
    if (!replaced) vars.push_back(var);
  }
  for (const auto& [name, value] : env) {
    if (!value.empty()) vars.push_back(name + "=" + value);
  }
  std::vector<char*> envp;
  for (std::string& v : vars) envp.push_back(v.data());
  envp.push_back(nullptr);
  std::string filter = "--gtest_filter=" + gtest_filter;
  char* argv[] = {exe, filter.data(), nullptr};
  std::fflush(stdout);
  pid_t pid = 0;
  if (posix_spawn(&pid, exe, nullptr, nullptr, argv, envp.data()) != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

}  // namespace testutil
