// LayerSpec: the shape of one weight-carrying layer (conv, depthwise conv or fully connected) as the sparsity
// distributions and the theoretical FLOPs counter see it (RIGL.md §1.3, §4.1). Pure data: no tensors, no autograd.
// Kernel dims follow the TF layout the reference uses for ER/ERK scores: conv [kh, kw, cin, cout], dense [cin, cout],
// depthwise [kh, kw, C, 1] (RIGL.md §4.1 quirk 2: a depthwise conv is counted as a regular conv with c_out = 1).
#ifndef MODELS_LAYER_SPEC_H_
#define MODELS_LAYER_SPEC_H_

#include <cstdint>
#include <string>
#include <vector>

namespace models {

struct LayerSpec {
  enum Kind { kConv, kDepthwiseConv, kDense };

  std::string name;  // PyTorch-style dotted parameter name, e.g. "layer1.0.conv1.weight"
  Kind kind = kDense;
  int64_t kernel_h = 1;
  int64_t kernel_w = 1;
  int64_t in_channels = 0;   // dense: input features; depthwise: C
  int64_t out_channels = 0;  // dense: output features; depthwise: C (the real channel count, not the counted 1)
  // The spatial side of the input as the FLOPs counter sees it (the Keras input_shape, including any explicit
  // ZeroPadding2D in front of the layer). Unused for dense layers.
  int64_t input_hw = 1;
  int64_t stride = 1;
  // Dense layers of a sequence model apply once per time step (a GRU's weight matrices, a per-position readout): the
  // FLOPs of one sample (one sequence) are time_steps times a single application's (RIGL.md 4.1's rule per step).
  int64_t time_steps = 1;
  // False: the layer never gets a mask (always dense, outside every sparsity budget), e.g. MobileNet depthwise convs.
  bool maskable = true;

  // Number of kernel weights: kh*kw*cin*cout (conv), cin*cout (dense), kh*kw*C (depthwise). Biases excluded.
  int64_t N() const;
  // The kernel dims in the reference's TF layout (see the file comment); their product is N().
  std::vector<int64_t> KernelDims() const;
  // The output channel count the counter uses: out_channels, or 1 for depthwise (RIGL.md §4.1 quirk 2).
  int64_t CountedOutChannels() const;
  // The counter's output side (RIGL.md §4.1, 'same' padding assumed): ceil((in - k + 1 + 2*floor(k/2)) / stride),
  // per axis. Dense layers return 1.
  int64_t OutputH() const;
  int64_t OutputW() const;
  // The weight shape as PyTorch stores it, formatted "cout x cin x kh x kw" ("out x in" for dense), for tables.
  std::string ShapeString() const;
};

// Throws engine::Error naming the layer if a size is non-positive or the kind's rules are broken.
void ValidateLayerSpec(const LayerSpec& layer);

// The one rounding rule for mask counts (the RigL reference's current one): a mask of n entries at sparsity s keeps
// exactly n - floor(s * n) ones, the floor taken in double precision. E.g. (30,4) at 0.5 -> 60; n = 8 at 0.8 -> 2;
// n = 30 at 0.1 -> 27 (0.1 * 30 is 3.0000000000000004). Throws unless n >= 0 and 0 <= s <= 1.
int64_t MaskNnz(int64_t n, double sparsity);

}  // namespace models

#endif  // MODELS_LAYER_SPEC_H_
