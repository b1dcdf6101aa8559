// Causal multi-head self-attention over qkv[B,T,3C]: queries, keys and values side by side, head h
// using channels [h*hs, (h+1)*hs) of each. One (sequence, head) pair per task; the matrix
// products are sgemm calls on strided views, the softmax a loop. CpuKernels runs these with
// OpenBLAS limited to one thread, since the pairs already occupy every core.
#include <omp.h>

#include <cmath>
#include <limits>

#include "kernels/cpu/blas.h"
#include "kernels/cpu/cpu_ops.h"

namespace trellis::cpu {

void attention_forward(const float* qkv, float* out, float* probs, int B, int T, int C, int NH) {
  const int hs = C / NH;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  const int ld_qkv = 3 * C;
#pragma omp parallel for schedule(static)
  for (int bh = 0; bh < B * NH; ++bh) {
    int b = bh / NH;
    int h = bh % NH;
    const float* q = qkv + static_cast<std::int64_t>(b) * T * ld_qkv + h * hs;
    const float* k = q + C;
    const float* v = q + 2 * C;
    float* p = probs + static_cast<std::int64_t>(bh) * T * T;
    // scores = q k^T / sqrt(hs); the upper triangle is computed and then masked.
    sgemm(false, true, T, T, hs, scale, q, ld_qkv, k, ld_qkv, 0.0f, p, T);
    for (int t = 0; t < T; ++t) {
      float* row = p + static_cast<std::int64_t>(t) * T;
      float max = -std::numeric_limits<float>::infinity();
      for (int j = 0; j <= t; ++j) max = row[j] > max ? row[j] : max;
      float sum = 0.0f;
      for (int j = 0; j <= t; ++j) {
        row[j] = std::exp(row[j] - max);
        sum += row[j];
      }
      float inv = 1.0f / sum;
#pragma omp simd
      for (int j = 0; j <= t; ++j) row[j] *= inv;
      for (int j = t + 1; j < T; ++j) row[j] = 0.0f;
    }
    float* o = out + static_cast<std::int64_t>(b) * T * C + h * hs;
    sgemm(false, false, T, hs, T, 1.0f, p, T, v, ld_qkv, 0.0f, o, C);
  }
}

void attention_backward(const float* dout, const float* qkv, const float* probs, float* dqkv,
                        int B, int T, int C, int NH, Scratch& scratch) {
  const int hs = C / NH;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  const int ld_qkv = 3 * C;
  scratch.reserve_threads(omp_get_max_threads());
#pragma omp parallel
  {
    float* dp = scratch.get(omp_get_thread_num(), static_cast<std::size_t>(T) * T);
#pragma omp for schedule(static)
    for (int bh = 0; bh < B * NH; ++bh) {
      int b = bh / NH;
      int h = bh % NH;
      std::int64_t base = static_cast<std::int64_t>(b) * T * ld_qkv + h * hs;
      const float* q = qkv + base;
      const float* k = q + C;
      const float* v = q + 2 * C;
      float* dq = dqkv + base;
      float* dk = dq + C;
      float* dv = dq + 2 * C;
      const float* p = probs + static_cast<std::int64_t>(bh) * T * T;
      const float* d_o = dout + static_cast<std::int64_t>(b) * T * C + h * hs;
      // dP = dO v^T, dV = P^T dO
      sgemm(false, true, T, T, hs, 1.0f, d_o, C, v, ld_qkv, 0.0f, dp, T);
      sgemm(true, false, T, hs, T, 1.0f, p, T, d_o, C, 0.0f, dv, ld_qkv);
      // Softmax backward, in place: dS = P * (dP - rowsum(P * dP)); zero above the diagonal.
      for (int t = 0; t < T; ++t) {
        const float* prow = p + static_cast<std::int64_t>(t) * T;
        float* drow = dp + static_cast<std::int64_t>(t) * T;
        float dot = 0.0f;
        for (int j = 0; j <= t; ++j) dot += prow[j] * drow[j];
#pragma omp simd
        for (int j = 0; j <= t; ++j) drow[j] = prow[j] * (drow[j] - dot);
        for (int j = t + 1; j < T; ++j) drow[j] = 0.0f;
      }
      // dQ = dS k / sqrt(hs), dK = dS^T q / sqrt(hs)
      sgemm(false, false, T, hs, T, scale, dp, T, k, ld_qkv, 0.0f, dq, ld_qkv);
      sgemm(true, false, T, hs, T, scale, dp, T, q, ld_qkv, 0.0f, dk, ld_qkv);
    }
  }
}

}  // namespace trellis::cpu
