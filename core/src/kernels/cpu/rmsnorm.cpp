// RMSNorm over the last dimension, as LLaMA's (Hugging Face's LlamaRMSNorm in float32):
// out = x * rstd * w with rstd = 1 / sqrt(mean of x^2 + eps). The row sums of squares and of the
// backward's products are taken in double (each square and each product of two floats is exact
// there), so rstd is the float nearest its exact value; the rest is layernorm.cpp's loops.
#include <omp.h>

#include <cmath>

#include "kernels/cpu/cpu_ops.h"

namespace trellis::cpu {

void rmsnorm_forward(const float* x, const float* w, float eps, float* out, float* rstd, int rows,
                     int cols) {
#pragma omp parallel for schedule(static)
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + static_cast<std::int64_t>(r) * cols;
    float* outr = out + static_cast<std::int64_t>(r) * cols;
    double sq = 0.0;
#pragma omp simd reduction(+ : sq)
    for (int i = 0; i < cols; ++i) sq += static_cast<double>(xr[i]) * xr[i];
    const float s = static_cast<float>(1.0 / std::sqrt(sq / cols + static_cast<double>(eps)));
#pragma omp simd
    for (int i = 0; i < cols; ++i) outr[i] = xr[i] * s * w[i];
    rstd[r] = s;
  }
}

// With norm = x * rstd and dnorm = w * dout: dx = (dnorm - norm * mean(dnorm * norm)) * rstd.
void rmsnorm_backward(const float* dout, const float* x, const float* w, const float* rstd,
                      float* dx, float* dw, int rows, int cols, Scratch& scratch) {
  int threads = omp_get_max_threads();
  scratch.reserve_threads(threads);
#pragma omp parallel num_threads(threads)
  {
    int thread = omp_get_thread_num();
    int team = omp_get_num_threads();
    float* pdw = scratch.get(thread, static_cast<std::size_t>(cols));
    for (int i = 0; i < cols; ++i) pdw[i] = 0.0f;
#pragma omp for schedule(static)
    for (int r = 0; r < rows; ++r) {
      const float* xr = x + static_cast<std::int64_t>(r) * cols;
      const float* dr = dout + static_cast<std::int64_t>(r) * cols;
      float* dxr = dx + static_cast<std::int64_t>(r) * cols;
      const float s = rstd[r];
      double dnorm_norm = 0.0;
#pragma omp simd reduction(+ : dnorm_norm)
      for (int i = 0; i < cols; ++i) {
        const float norm = xr[i] * s;
        const float dnorm = w[i] * dr[i];
        dnorm_norm += static_cast<double>(dnorm) * norm;
      }
      const float dnorm_norm_mean = static_cast<float>(dnorm_norm / cols);
#pragma omp simd
      for (int i = 0; i < cols; ++i) {
        const float norm = xr[i] * s;
        const float dnorm = w[i] * dr[i];
        pdw[i] += norm * dr[i];
        dxr[i] = (dnorm - norm * dnorm_norm_mean) * s;
      }
    }
#pragma omp single
    for (int t = 0; t < team; ++t) {
      const float* p = scratch.get(t, static_cast<std::size_t>(cols));
      for (int i = 0; i < cols; ++i) dw[i] += p[i];
    }
  }
}

}  // namespace trellis::cpu
