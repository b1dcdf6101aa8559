// GELU with the tanh approximation, as torch.nn.functional.gelu(x, approximate="tanh").
#include <omp.h>

#include "kernels/cpu/vector_math.h"

#include "kernels/cpu/cpu_ops.h"

namespace trellis::cpu {

namespace {
constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kCubic = 0.044715f;
}  // namespace

void gelu_forward(const float* x, float* out, std::int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) {
    float v = x[i];
    float inner = kSqrt2OverPi * (v + kCubic * v * v * v);
    out[i] = 0.5f * v * vtanh_parts(inner).one_plus;
  }
}

void gelu_backward(const float* x, const float* dout, float* dx, std::int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) {
    float v = x[i];
    float inner = kSqrt2OverPi * (v + kCubic * v * v * v);
    TanhParts t = vtanh_parts(inner);
    float local =
        0.5f * t.one_plus + 0.5f * v * t.sech2 * kSqrt2OverPi * (1.0f + 3.0f * kCubic * v * v);
    dx[i] = local * dout[i];
  }
}

}  // namespace trellis::cpu
