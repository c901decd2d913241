// Optional image augmentation for training batches: random crop with zero padding and horizontal flip.
// Every random choice is a pure function of (seed, epoch, sample index), so augmented batches do not depend on
// thread count, batch size or the order in which samples are visited. Off by default.
#ifndef ENGINE_DATA_AUGMENT_H_
#define ENGINE_DATA_AUGMENT_H_

#include <cstdint>

namespace engine::data {

struct AugmentOptions {
  int64_t crop_padding = 0;      // > 0: pad each side by this many pixels, then crop H x W at a random offset
  bool horizontal_flip = false;  // mirror left-right with probability 1/2

  bool enabled() const { return crop_padding > 0 || horizontal_flip; }
};

// The random choices for one sample. The crop window's top-left corner in the padded image is
// (offset_y, offset_x), each in [0, 2 * crop_padding]; crop_padding means "no shift".
struct AugmentDraw {
  int64_t offset_y = 0;
  int64_t offset_x = 0;
  bool flip = false;
};

// Draws the choices for sample `sample` (its index in the dataset) in epoch `epoch`. Pure function.
AugmentDraw DrawAugment(const AugmentOptions& options, uint64_t seed, int64_t epoch, int64_t sample);

// dst[y, x] = padded[y + offset_y, x' + offset_x] where x' = (flip ? width - 1 - x : x) and
// padded[py, px] = src[py - pad, px - pad] inside the image, `background` outside (pad = crop_padding).
// src and dst are height x width row-major and must not alias.
void ApplyAugment(const float* src, int64_t height, int64_t width, int64_t crop_padding, const AugmentDraw& draw,
                  float background, float* dst);

}  // namespace engine::data

#endif  // ENGINE_DATA_AUGMENT_H_
