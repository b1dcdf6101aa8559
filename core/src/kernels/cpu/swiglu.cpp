// SwiGLU, as LLaMA's MLP: out = silu(gate) * up, silu(g) = g * sigmoid(g), with each row of
// gate_up[N,2F] holding the gate (its first F columns) and then up (the last F).
#include <omp.h>

#include <cmath>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/vector_math.h"

namespace trellis::cpu {

namespace {

// sigmoid(g) and 1 - sigmoid(g), from e = exp(-|g|) as 1 / (1 + e) and e / (1 + e): neither is
// a difference from 1, so both keep their relative accuracy in the tails.
struct Sigmoid {
  float value;       // sigmoid(g)
  float complement;  // 1 - sigmoid(g)
};

inline Sigmoid sigmoid(float g) {
  const float e = vexp(-std::fabs(g));
  const float near_one = 1.0f / (1.0f + e);
  const float near_zero = e * near_one;
  return g >= 0.0f ? Sigmoid{near_one, near_zero} : Sigmoid{near_zero, near_one};
}

}  // namespace

void swiglu_forward(const float* gate_up, float* out, std::int64_t rows, std::int64_t cols) {
#pragma omp parallel for schedule(static) if (rows * cols > 65536)
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* gate = gate_up + r * 2 * cols;
    const float* up = gate + cols;
    float* outr = out + r * cols;
#pragma omp simd
    for (std::int64_t i = 0; i < cols; ++i) {
      const float g = gate[i];
      outr[i] = g * sigmoid(g).value * up[i];
    }
  }
}

// d gate = dout * up * sigmoid(g) * (1 + g * (1 - sigmoid(g))); d up = dout * silu(g).
void swiglu_backward(const float* gate_up, const float* dout, float* dgate_up, std::int64_t rows,
                     std::int64_t cols) {
#pragma omp parallel for schedule(static) if (rows * cols > 65536)
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* gate = gate_up + r * 2 * cols;
    const float* up = gate + cols;
    const float* dr = dout + r * cols;
    float* dgate = dgate_up + r * 2 * cols;
    float* dup = dgate + cols;
#pragma omp simd
    for (std::int64_t i = 0; i < cols; ++i) {
      const float g = gate[i];
      const Sigmoid s = sigmoid(g);
      const float local = s.value * (1.0f + g * s.complement);
      const float upi = up[i];
      dup[i] = dr[i] * (g * s.value);
      dgate[i] = (dr[i] * upi) * local;
    }
  }
}

}  // namespace trellis::cpu
