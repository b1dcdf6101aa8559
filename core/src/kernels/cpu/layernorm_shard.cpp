// LayerNorm over a shard of each row's channels, in the steps of trellis/kernels.h: the per-row
// sums are divided by the row's full channel count C, so the shards' values add up to the row's
// statistics. The loops are layernorm.cpp's, cut where the sums over a row are complete; with one
// shard they do the same arithmetic in the same order.
#include <omp.h>

#include <cmath>

#include "kernels/cpu/cpu_ops.h"

namespace trellis::cpu {

namespace {
constexpr float kEps = 1e-5f;
}

void layernorm_shard_mean(const float* x, float* mean, int rows, int cols, std::int64_t channels) {
  const float c = static_cast<float>(channels);
#pragma omp parallel for schedule(static)
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + static_cast<std::int64_t>(r) * cols;
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int i = 0; i < cols; ++i) sum += xr[i];
    mean[r] = sum / c;
  }
}

void layernorm_shard_var(const float* x, const float* mean, float* var, int rows, int cols,
                         std::int64_t channels) {
  const float c = static_cast<float>(channels);
#pragma omp parallel for schedule(static)
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + static_cast<std::int64_t>(r) * cols;
    const float m = mean[r];
    float sq = 0.0f;
#pragma omp simd reduction(+ : sq)
    for (int i = 0; i < cols; ++i) {
      float d = xr[i] - m;
      sq += d * d;
    }
    var[r] = sq / c;
  }
}

void layernorm_shard_forward(const float* x, const float* w, const float* b, const float* mean,
                             const float* var, float* out, float* rstd, int rows, int cols) {
#pragma omp parallel for schedule(static)
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + static_cast<std::int64_t>(r) * cols;
    float* outr = out + static_cast<std::int64_t>(r) * cols;
    const float m = mean[r];
    const float s = 1.0f / std::sqrt(var[r] + kEps);
#pragma omp simd
    for (int i = 0; i < cols; ++i) outr[i] = (xr[i] - m) * s * w[i] + b[i];
    rstd[r] = s;
  }
}

void layernorm_shard_backward_sums(const float* dout, const float* x, const float* w,
                                   const float* mean, const float* rstd, float* dsums, int rows,
                                   int cols, std::int64_t channels) {
  const float c = static_cast<float>(channels);
#pragma omp parallel for schedule(static)
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + static_cast<std::int64_t>(r) * cols;
    const float* dr = dout + static_cast<std::int64_t>(r) * cols;
    const float m = mean[r];
    const float s = rstd[r];
    float dnorm_mean = 0.0f;
    float dnorm_norm_mean = 0.0f;
#pragma omp simd reduction(+ : dnorm_mean, dnorm_norm_mean)
    for (int i = 0; i < cols; ++i) {
      float norm = (xr[i] - m) * s;
      float dnorm = w[i] * dr[i];
      dnorm_mean += dnorm;
      dnorm_norm_mean += dnorm * norm;
    }
    dsums[r] = dnorm_mean / c;
    dsums[rows + r] = dnorm_norm_mean / c;
  }
}

void layernorm_shard_backward(const float* dout, const float* x, const float* w, const float* mean,
                              const float* rstd, const float* dsums, float* dx, float* dw,
                              float* db, int rows, int cols, Scratch& scratch) {
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
      const float m = mean[r];
      const float s = rstd[r];
      const float dnorm_mean = dsums[r];
      const float dnorm_norm_mean = dsums[rows + r];
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
