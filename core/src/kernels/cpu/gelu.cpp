// GELU with the tanh approximation, as torch.nn.functional.gelu(x, approximate="tanh").
#include <cmath>

#include "kernels/cpu/cpu_ops.h"

namespace trellis::cpu {

namespace {
constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kCubic = 0.044715f;
}  // namespace

void gelu_forward(const float* x, float* out, std::int64_t n) {
#pragma omp parallel for simd schedule(static)
  for (std::int64_t i = 0; i < n; ++i) {
    float v = x[i];
    float inner = kSqrt2OverPi * (v + kCubic * v * v * v);
    out[i] = 0.5f * v * (1.0f + std::tanh(inner));
  }
}

void gelu_backward(const float* x, const float* dout, float* dx, std::int64_t n) {
#pragma omp parallel for simd schedule(static)
  for (std::int64_t i = 0; i < n; ++i) {
    float v = x[i];
    float inner = kSqrt2OverPi * (v + kCubic * v * v * v);
    float t = std::tanh(inner);
    float sech2 = 1.0f - t * t;
    float local = 0.5f * (1.0f + t) + 0.5f * v * sech2 * kSqrt2OverPi * (1.0f + 3.0f * kCubic * v * v);
    dx[i] = local * dout[i];
  }
}

}  // namespace trellis::cpu
