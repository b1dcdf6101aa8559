// Causal multi-head self-attention over qkv[B,T,3C]: queries, keys and values side by side, head h
// using channels [h*hs, (h+1)*hs) of each. One (sequence, head) pair per task; within it the
// queries go in blocks of kQueryBlock rows, and block i only meets keys [0, (i+1)*kQueryBlock):
// the products skip most of the masked upper triangle (5/8 of the full work with 4 blocks
// instead of all of it). The products are single-threaded sgemm calls on strided views (the
// pairs already occupy every core); the softmax is a loop.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/cpu/blas.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/vector_math.h"

namespace trellis::cpu {

namespace {

constexpr int kQueryBlock = 32;

}  // namespace

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
    float* o = out + static_cast<std::int64_t>(b) * T * C + h * hs;
    for (int first = 0; first < T; first += kQueryBlock) {
      const int rows = std::min(kQueryBlock, T - first);
      const int keys = first + rows;  // keys this block can see
      float* pb = p + static_cast<std::int64_t>(first) * T;
      // scores = q k^T / sqrt(hs) for the visible keys
      sgemm(false, true, rows, keys, hs, scale, q + static_cast<std::int64_t>(first) * ld_qkv,
            ld_qkv, k, ld_qkv, 0.0f, pb, T);
      for (int r = 0; r < rows; ++r) {
        const int t = first + r;
        float* row = pb + static_cast<std::int64_t>(r) * T;
        const float max = vmax(row, t + 1);
        float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
        for (int j = 0; j <= t; ++j) {
          float e = vexp(row[j] - max);
          row[j] = e;
          sum += e;
        }
        float inv = 1.0f / sum;
#pragma omp simd
        for (int j = 0; j <= t; ++j) row[j] *= inv;
        for (int j = t + 1; j < T; ++j) row[j] = 0.0f;
      }
      // out = P v over the visible keys
      sgemm(false, false, rows, hs, keys, 1.0f, pb, T, v, ld_qkv, 0.0f,
            o + static_cast<std::int64_t>(first) * C, C);
    }
  }
}

void attention_backward(const float* dout, const float* qkv, const float* probs, float* dqkv, int B,
                        int T, int C, int NH, Scratch& scratch) {
  const int hs = C / NH;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  const int ld_qkv = 3 * C;
  scratch.reserve_threads(omp_get_max_threads());
#pragma omp parallel
  {
    float* ds = scratch.get(omp_get_thread_num(), static_cast<std::size_t>(kQueryBlock) * T);
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
      for (int first = 0; first < T; first += kQueryBlock) {
        const int rows = std::min(kQueryBlock, T - first);
        const int keys = first + rows;
        const float* pb = p + static_cast<std::int64_t>(first) * T;
        const float* dob = d_o + static_cast<std::int64_t>(first) * C;
        const float* qb = q + static_cast<std::int64_t>(first) * ld_qkv;
        // dV[:keys] += P_b^T dO_b. Keys [first, keys) are seen for the first time by this block
        // (later blocks add to them), so they are written; earlier keys are added to.
        if (first > 0) {
          sgemm(true, false, first, hs, rows, 1.0f, pb, T, dob, C, 1.0f, dv, ld_qkv);
        }
        sgemm(true, false, rows, hs, rows, 1.0f, pb + first, T, dob, C, 0.0f,
              dv + static_cast<std::int64_t>(first) * ld_qkv, ld_qkv);
        // dP_b = dO_b v[:keys]^T, into the scratch block
        sgemm(false, true, rows, keys, hs, 1.0f, dob, C, v, ld_qkv, 0.0f, ds, T);
        // Softmax backward in place: dS = P * (dP - rowsum(P * dP)), zero past the diagonal.
        for (int r = 0; r < rows; ++r) {
          const int t = first + r;
          const float* prow = pb + static_cast<std::int64_t>(r) * T;
          float* drow = ds + static_cast<std::int64_t>(r) * T;
          float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
          for (int j = 0; j <= t; ++j) dot += prow[j] * drow[j];
#pragma omp simd
          for (int j = 0; j <= t; ++j) drow[j] = prow[j] * (drow[j] - dot);
          for (int j = t + 1; j < keys; ++j) drow[j] = 0.0f;
        }
        // dQ_b = dS_b k[:keys] / sqrt(hs)
        sgemm(false, false, rows, hs, keys, scale, ds, T, k, ld_qkv, 0.0f,
              dq + static_cast<std::int64_t>(first) * ld_qkv, ld_qkv);
        // dK[:keys] (+)= dS_b^T q_b / sqrt(hs), split like dV
        if (first > 0) {
          sgemm(true, false, first, hs, rows, scale, ds, T, qb, ld_qkv, 1.0f, dk, ld_qkv);
        }
        sgemm(true, false, rows, hs, rows, scale, ds + first, T, qb, ld_qkv, 0.0f,
              dk + static_cast<std::int64_t>(first) * ld_qkv, ld_qkv);
      }
    }
  }
}

}  // namespace trellis::cpu
