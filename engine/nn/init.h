// Parameter initialisation helpers shared by the nn modules: a stable hash of a parameter name (to derive its
// random stream) and the Glorot-uniform limit.
#ifndef ENGINE_NN_INIT_H_
#define ENGINE_NN_INIT_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "engine/base/hash.h"
#include "engine/base/rng.h"
#include "engine/sparse/bsr.h"

namespace engine::nn {

// How a layer stores its weight: dense, CSR with exactly `nnz` entries, or BSR with exactly `nnz` stored blocks of
// block_rows x block_cols (nnz may be the whole (block) grid, e.g. for gradual pruning, which starts full and
// shrinks). Callers decide the count (rigl's plan, by models::MaskNnz); the layers never round a density themselves.
struct WeightStorage {
  bool sparse = false;
  int64_t nnz = 0;  // stored positions: entries (CSR) or blocks (BSR)
  int64_t block_rows = 1;
  int64_t block_cols = 1;
  bool blocked() const { return sparse && (block_rows != 1 || block_cols != 1); }
  static WeightStorage Dense() { return {}; }
  static WeightStorage Sparse(int64_t nnz) { return {true, nnz, 1, 1}; }
  static WeightStorage Blocked(int64_t blocks, int64_t block_rows, int64_t block_cols) {
    return {true, blocks, block_rows, block_cols};
  }
};

// The pattern of a blocked (storage.blocked()) rows x cols weight: exactly storage.nnz blocks drawn uniformly over
// its block grid (BsrMatrix::RandomPattern), values 0. Throws engine::Error naming `weight_name` when the block
// shape is not positive or the count exceeds the grid.
BsrMatrix RandomBlockPattern(const std::string& weight_name, int64_t rows, int64_t cols, const WeightStorage& storage,
                             Rng& rng);

// FNV-1a 64 of the name: stable across runs, platforms and compilers (std::hash is not).
inline uint64_t NameHash(const std::string& name) { return Fnv1a(kFnv1aBasis, name.data(), name.size()); }

// Which fan-in / fan-out the initialisers use for a sparse weight.
//   kDense:  the dense layer's (the RigL paper's convention, RIGL.md section 2: no sparsity-aware rescaling).
//   kStored: the average over stored entries, nnz / rows and nnz / cols (the reference code's unused
//            init_method='sparse'). At 99.9% sparsity the dense fan-in of a 100000-wide layer is 100000 but a unit
//            sees about 60 inputs, and the dense convention starts it with activations ~40x too small.
enum class FanMode { kDense, kStored };

// The fan a sparse weight's initialiser uses: `dense_fan` under kDense, max(1, nnz / other_dim) under kStored
// (other_dim is the weight's extent along the other axis: rows for the fan-in, cols for the fan-out).
inline double InitFan(FanMode mode, int64_t dense_fan, int64_t nnz, int64_t other_dim) {
  if (mode == FanMode::kDense || nnz < 0) return static_cast<double>(dense_fan);
  return std::max(1.0, static_cast<double>(nnz) / static_cast<double>(other_dim));
}

// Glorot (Xavier) uniform limit for the dense fan-in and fan-out.
inline float GlorotLimit(double fan_in, double fan_out) {
  return static_cast<float>(std::sqrt(6.0 / (fan_in + fan_out)));
}

}  // namespace engine::nn

#endif  // ENGINE_NN_INIT_H_
