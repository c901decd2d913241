// Softmax cross-entropy on feature-major logits [classes, batch], with optional label smoothing, and the
// accuracy count. Label smoothing follows the TF/Keras convention used by the RigL reference:
// target q = (1 - s) · onehot(label) + s / classes.
#ifndef ENGINE_OPS_LOSS_H_
#define ENGINE_OPS_LOSS_H_

#include <cstdint>
#include <vector>

#include "engine/autograd/variable.h"

namespace engine {

// Mean over the batch of -sum_c q[c] · log softmax(logits[:, n])[c]. Returns a [1] tensor.
// labels has batch entries in [0, classes); 0 <= label_smoothing < 1.
Variable SoftmaxCrossEntropy(const Variable& logits, const std::vector<int32_t>& labels, float label_smoothing = 0);

// Number of columns n whose arg-max over classes (first maximum on ties) equals labels[n].
int CountCorrect(const Tensor& logits, const std::vector<int32_t>& labels);

}  // namespace engine

#endif  // ENGINE_OPS_LOSS_H_
