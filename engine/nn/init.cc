// Blocked weight patterns for the nn modules (see init.h).
#include "engine/nn/init.h"

#include "engine/base/check.h"

namespace engine::nn {

BsrMatrix RandomBlockPattern(const std::string& weight_name, int64_t rows, int64_t cols, const WeightStorage& storage,
                             Rng& rng) {
  const int64_t br = storage.block_rows, bc = storage.block_cols;
  ENGINE_CHECK(br >= 1 && bc >= 1, weight_name, ": block ", br, "x", bc, " given; expected both >= 1");
  const int64_t grid = ((rows + br - 1) / br) * ((cols + bc - 1) / bc);
  ENGINE_CHECK(storage.nnz >= 0 && storage.nnz <= grid, weight_name, ": ", storage.nnz, " blocks of ", br, "x", bc,
               " given; expected 0 <= blocks <= the block grid's ", grid);
  return BsrMatrix::RandomPattern(rows, cols, br, bc, storage.nnz, rng);
}

}  // namespace engine::nn
