// Gradient exchange and replica checks of data-parallel training (see data_parallel.h).
#include "rigl/data_parallel.h"

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "engine/base/check.h"
#include "engine/base/hash.h"
#include "engine/base/timer.h"

namespace rigl {
DataParallel::DataParallel(engine::dist::Communicator* comm, engine::ParameterList params,
                           std::vector<std::pair<std::string, engine::Tensor*>> buffers)
    : comm_(comm), params_(std::move(params)), buffers_(std::move(buffers)) {}

void DataParallel::Reduce(double share, bool dense_grads) {
  const engine::Timer timer;
  const float scale = static_cast<float>(share);
  // What this step exchanges, in a fixed order: pack (scaled), sum, unpack, one exchange whatever the number of
  // parameters.
  std::vector<std::pair<float*, int64_t>> spans;
  for (engine::SparseParameter* p : params_.sparse) {
    if (!p->skip_pattern_grad) spans.emplace_back(p->grad.data(), static_cast<int64_t>(p->grad.size()));
  }
  if (dense_grads) {
    for (engine::DenseParameter* p : params_.dense) spans.emplace_back(p->var.grad().data(), p->var.grad().size());
  }
  for (auto& [name, t] : buffers_) spans.emplace_back(t->data(), t->size());
  pack_.clear();
  for (const auto& [v, n] : spans) {
    for (int64_t i = 0; i < n; ++i) pack_.push_back(scale * v[i]);
  }
  last_floats_ = static_cast<int64_t>(pack_.size());
  comm_->AllreduceSum(pack_.data(), last_floats_);
  const float* at = pack_.data();
  for (const auto& [v, n] : spans) {
    std::copy(at, at + n, v);
    at += n;
  }
  exchange_seconds_ += timer.Seconds();

  // Dense-gradient tiles: this rank's tile, scaled, then summed across ranks in place.
  for (engine::SparseParameter* p : params_.sparse) {
    if (!p->want_dense_grad || !p->dense_grad_rows) continue;
    auto local = std::move(p->dense_grad_rows);
    engine::dist::Communicator* comm = comm_;
    int64_t* tile_bytes = &tile_bytes_;
    double* tile_seconds = &tile_seconds_;
    p->dense_grad_rows = [local = std::move(local), comm, scale, tile_bytes, tile_seconds](
                             int64_t r0, int64_t r1, engine::DenseView out) {
      local(r0, r1, out);
      const engine::Timer timer;
      const int64_t before = comm->bytes_sent();
      if (out.ld == out.cols) {
        float* v = out.data;
        const int64_t n = out.rows * out.cols;
        for (int64_t i = 0; i < n; ++i) v[i] *= scale;
        comm->AllreduceSum(v, n);
      } else {
        for (int64_t i = 0; i < out.rows; ++i) {
          float* row = out.row(i);
          for (int64_t j = 0; j < out.cols; ++j) row[j] *= scale;
          comm->AllreduceSum(row, out.cols);
        }
      }
      *tile_bytes += comm->bytes_sent() - before;
      *tile_seconds += timer.Seconds();
    };
  }
}

std::vector<double> DataParallel::Gather(const std::vector<double>& values) {
  return engine::dist::AllgatherDoubles(*comm_, values);
}

void DataParallel::CheckSame(const std::string& what, uint64_t fingerprint) {
  const std::vector<uint64_t> all = engine::dist::AllgatherU64(*comm_, fingerprint);
  ENGINE_CHECK(all[static_cast<size_t>(comm_->rank())] == all[0], what, " on ", comm_->Describe(),
               " differs from rank 0's (hash ", all[static_cast<size_t>(comm_->rank())], " vs ", all[0],
               "); expected every rank to train on the same data");
}

void DataParallel::CheckReplicasAgree(const std::string& when) {
  if (comm_->size() == 1) return;
  std::vector<std::string> names;
  std::vector<uint64_t> mine;
  for (const engine::SparseParameter* p : params_.sparse) {
    const engine::PatternView g = p->pattern();
    uint64_t h = engine::Fnv1a(engine::kFnv1aBasis, g.offsets, static_cast<size_t>(g.rows + 1) * sizeof(int64_t));
    h = engine::Fnv1a(h, g.indices, static_cast<size_t>(g.positions) * sizeof(int32_t));
    names.push_back(p->name + " (pattern)");
    mine.push_back(h);
    names.push_back(p->name + " (values)");
    mine.push_back(engine::Fnv1a(engine::kFnv1aBasis, p->values().data(), static_cast<size_t>(p->stored()) * 4));
  }
  for (const engine::DenseParameter* p : params_.dense) {
    names.push_back(p->name);
    mine.push_back(engine::Fnv1a(engine::kFnv1aBasis, p->var.value().data(), static_cast<size_t>(p->var.value().size()) * 4));
  }
  for (const auto& [name, t] : buffers_) {
    names.push_back(name);
    mine.push_back(engine::Fnv1a(engine::kFnv1aBasis, t->data(), static_cast<size_t>(t->size()) * 4));
  }
  const size_t n = mine.size();
  std::vector<uint64_t> all(n * static_cast<size_t>(comm_->size()));
  comm_->Allgather(mine.data(), static_cast<int64_t>(n * sizeof(uint64_t)), all.data());
  for (size_t i = 0; i < n; ++i) {
    for (int r = 1; r < comm_->size(); ++r) {
      ENGINE_CHECK(all[static_cast<size_t>(r) * n + i] == all[i], "data-parallel replicas differ ", when, ": ",
                   names[i], " on rank ", r, " is not the same as on rank 0 (hash ", all[static_cast<size_t>(r) * n + i],
                   " vs ", all[i], "); expected every rank to hold the same model. Every rank must run the same "
                   "binary with the same flags on the same data");
    }
  }
  ++checks_;
}

}  // namespace rigl
