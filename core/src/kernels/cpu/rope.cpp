// Rotary position embedding, in place, in the "rotate half" layout of Hugging Face's LLaMA:
// channel i < head_dim/2 of a head pairs with channel i + head_dim/2, and the pair turns by
// position * theta^(-2i/head_dim). The angle, its cosine and sine and the rotation are computed
// in double, and each result rounded to float once.
#include <omp.h>

#include <cmath>

#include "kernels/cpu/cpu_ops.h"

namespace trellis::cpu {

namespace {

// The position of token t of a block: the t-th token over the runs, in order.
std::int64_t position_of(const TokenPositions& at, std::int64_t t) {
  for (int r = 0; r < at.runs; ++r) {
    if (t < at.length[r]) return at.start[r] + t;
    t -= at.length[r];
  }
  return 0;  // not reached: t < at.tokens()
}

}  // namespace

void rope(float* x, int B, std::int64_t width, std::int64_t col, std::int64_t heads,
          std::int64_t head_dim, const TokenPositions& at, double theta, bool inverse) {
  const std::int64_t T = at.tokens();
  const std::int64_t half = head_dim / 2;
  const std::int64_t work = static_cast<std::int64_t>(B) * T * heads * head_dim;
  const double direction = inverse ? -1.0 : 1.0;
#pragma omp parallel for schedule(static) if (work > 65536)
  for (std::int64_t t = 0; t < T; ++t) {
    const double position = static_cast<double>(position_of(at, t));
    for (std::int64_t i = 0; i < half; ++i) {
      const double frequency =
          std::pow(theta, -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
      const double angle = direction * position * frequency;
      const double c = std::cos(angle), s = std::sin(angle);
      for (int b = 0; b < B; ++b) {
        float* row = x + (static_cast<std::int64_t>(b) * T + t) * width + col;
        for (std::int64_t h = 0; h < heads; ++h) {
          float* pair = row + h * head_dim + i;
          const double first = pair[0], second = pair[half];
          pair[0] = static_cast<float>(first * c - second * s);
          pair[half] = static_cast<float>(second * c + first * s);
        }
      }
    }
  }
}

}  // namespace trellis::cpu
