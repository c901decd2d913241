// Embedding lookup for sequence models: each token id selects one row of a dense table.
#ifndef ENGINE_OPS_EMBEDDING_H_
#define ENGINE_OPS_EMBEDDING_H_

#include "engine/autograd/parameter.h"
#include "engine/autograd/variable.h"
#include "engine/tensor/views.h"

namespace engine {

// ids [steps, batch] holds token ids as floats (whole numbers in [0, table rows)); table.var is [vocabulary, dim]
// (PyTorch's nn.Embedding layout). Returns y [dim, steps * batch], feature-major with the columns time-major:
// y[e, t * batch + b] = table[ids[t, b], e]. The backward adds dy's columns into the rows they came from,
// d_table[ids[t, b], e] += dy[e, t * batch + b], in column order (deterministic for any thread count). Throws naming
// the table and the offending id when an id is not a whole number in range.
Variable Embedding(ConstDenseView ids, DenseParameter& table);

}  // namespace engine

#endif  // ENGINE_OPS_EMBEDDING_H_
