// LayerNorm over the last dimension with eps 1e-5 and the biased variance, as torch.nn.LayerNorm.
#include <omp.h>

#include <cmath>

#include "kernels/cpu/cpu_ops.h"

namespace trellis::cpu {

namespace {
constexpr float kEps = 1e-5f;
}

void layernorm_forward(const float* x, const float* w, const float* b, float* out, float* mean,
                       float* rstd, int rows, int cols) {
#pragma omp parallel for schedule(static)
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + static_cast<std::int64_t>(r) * cols;
    float* outr = out + static_cast<std::int64_t>(r) * cols;
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int i = 0; i < cols; ++i) sum += xr[i];
    float m = sum / cols;
    float sq = 0.0f;
#pragma omp simd reduction(+ : sq)
    for (int i = 0; i < cols; ++i) {
      float d = xr[i] - m;
      sq += d * d;
    }
    float s = 1.0f / std::sqrt(sq / cols + kEps);
#pragma omp simd
    for (int i = 0; i < cols; ++i) outr[i] = (xr[i] - m) * s * w[i] + b[i];
    mean[r] = m;
    rstd[r] = s;
  }
}

void layernorm_backward(const float* dout, const float* x, const float* w, const float* mean,
                        const float* rstd, float* dx, float* dw, float* db, int rows, int cols,
                        Scratch& scratch) {
  int threads = omp_get_max_threads();
  scratch.reserve_threads(threads);
#pragma omp parallel num_threads(threads)
  {
    int thread = omp_get_thread_num();
    int team = omp_get_num_threads();
    float* partial = scratch.get(thread, 2 * static_cast<std::size_t>(cols));
    float* pdw = partial;
    float* pdb = partial + cols;
    for (int i = 0; i < 2 * cols; ++i) partial[i] = 0.0f;
#pragma omp for schedule(static)
    for (int r = 0; r < rows; ++r) {
      const float* xr = x + static_cast<std::int64_t>(r) * cols;
      const float* dr = dout + static_cast<std::int64_t>(r) * cols;
      float* dxr = dx + static_cast<std::int64_t>(r) * cols;
      float m = mean[r];
      float s = rstd[r];
      float dnorm_mean = 0.0f;
      float dnorm_norm_mean = 0.0f;
#pragma omp simd reduction(+ : dnorm_mean, dnorm_norm_mean)
      for (int i = 0; i < cols; ++i) {
        float norm = (xr[i] - m) * s;
        float dnorm = w[i] * dr[i];
        dnorm_mean += dnorm;
        dnorm_norm_mean += dnorm * norm;
      }
      dnorm_mean /= cols;
      dnorm_norm_mean /= cols;
#pragma omp simd
      for (int i = 0; i < cols; ++i) {
        float norm = (xr[i] - m) * s;
        float dnorm = w[i] * dr[i];
        pdb[i] += dr[i];
        pdw[i] += norm * dr[i];
        dxr[i] = (dnorm - dnorm_mean - norm * dnorm_norm_mean) * s;
      }
    }
#pragma omp single
    for (int t = 0; t < team; ++t) {
      const float* p = scratch.get(t, 2 * static_cast<std::size_t>(cols));
      for (int i = 0; i < cols; ++i) {
        dw[i] += p[i];
        db[i] += p[cols + i];
      }
    }
  }
}

}  // namespace trellis::cpu
