// AdamW in the order torch.optim.AdamW (single-tensor path) computes it: decoupled decay first,
// then the moment updates, then the bias-corrected step.
#include <cmath>

#include "kernels/cpu/cpu_ops.h"

namespace trellis::cpu {

void adamw(float* param, const float* grad, float* m, float* v, std::int64_t n, float lr,
           float beta1, float beta2, float eps, float weight_decay, int step) {
  // Scalars in double, as PyTorch computes them in Python before handing them to the kernels.
  const float decay = static_cast<float>(1.0 - static_cast<double>(lr) * weight_decay);
  const double bias_correction1 = 1.0 - std::pow(static_cast<double>(beta1), step);
  const double bias_correction2 = 1.0 - std::pow(static_cast<double>(beta2), step);
  const float step_size = static_cast<float>(lr / bias_correction1);
  const float bias_correction2_sqrt = static_cast<float>(std::sqrt(bias_correction2));
#pragma omp parallel for simd schedule(static) if (n > 16384)
  for (std::int64_t i = 0; i < n; ++i) {
    float g = grad[i];
    float p = param[i] * decay;
    float mi = m[i] * beta1 + (1.0f - beta1) * g;
    float vi = v[i] * beta2 + (1.0f - beta2) * g * g;
    float denom = std::sqrt(vi) / bias_correction2_sqrt + eps;
    param[i] = p - step_size * (mi / denom);
    m[i] = mi;
    v[i] = vi;
  }
}

}  // namespace trellis::cpu
