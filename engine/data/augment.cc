// Crop-and-flip augmentation.
#include "engine/data/augment.h"

#include "engine/base/check.h"
#include "engine/base/rng.h"

namespace engine::data {
namespace {
// Separates augmentation draws from the shuffle stream, which uses Rng::Stream(seed, epoch).
constexpr uint64_t kAugmentSalt = 0x41554730u;  // "AUG0"
}  // namespace

AugmentDraw DrawAugment(const AugmentOptions& options, uint64_t seed, int64_t epoch, int64_t sample) {
  ENGINE_CHECK(options.crop_padding >= 0, "AugmentOptions.crop_padding = ", options.crop_padding,
               "; expected >= 0");
  Rng rng = Rng::Stream(Mix64(seed ^ kAugmentSalt) ^ Mix64(static_cast<uint64_t>(epoch)),
                        static_cast<uint64_t>(sample));
  AugmentDraw draw;
  draw.offset_y = options.crop_padding;
  draw.offset_x = options.crop_padding;
  if (options.crop_padding > 0) {
    const uint64_t positions = static_cast<uint64_t>(2 * options.crop_padding + 1);
    draw.offset_y = static_cast<int64_t>(rng.UniformInt(positions));
    draw.offset_x = static_cast<int64_t>(rng.UniformInt(positions));
  }
  if (options.horizontal_flip) draw.flip = (rng.Next() >> 63) != 0;
  return draw;
}

void ApplyAugment(const float* src, int64_t height, int64_t width, int64_t crop_padding, const AugmentDraw& draw,
                  float background, float* dst) {
  // Source row/column read by output (y, x): the crop shifts by (offset - pad), the flip mirrors x first.
  const int64_t shift_y = draw.offset_y - crop_padding;
  const int64_t shift_x = draw.offset_x - crop_padding;
  for (int64_t y = 0; y < height; ++y) {
    const int64_t sy = y + shift_y;
    float* out = dst + y * width;
    if (sy < 0 || sy >= height) {
      for (int64_t x = 0; x < width; ++x) out[x] = background;
      continue;
    }
    const float* in = src + sy * width;
    for (int64_t x = 0; x < width; ++x) {
      const int64_t sx = (draw.flip ? width - 1 - x : x) + shift_x;
      out[x] = (sx >= 0 && sx < width) ? in[sx] : background;
    }
  }
}

}  // namespace engine::data
