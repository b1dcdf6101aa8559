// Token + position embeddings. The token table may be a shard of rows standing for ids
// [vocab_begin, vocab_begin + vocab_rows); ids outside it contribute zero (vocab parallelism).
#include <omp.h>

#include "kernels/cpu/cpu_ops.h"

namespace trellis::cpu {

void embedding_forward(const std::int32_t* tokens, const float* wte, std::int64_t vocab_rows,
                       std::int64_t vocab_begin, const float* wpe, float* out, int B, int T,
                       int C) {
#pragma omp parallel for schedule(static)
  for (int bt = 0; bt < B * T; ++bt) {
    std::int64_t row = static_cast<std::int64_t>(tokens[bt]) - vocab_begin;
    bool here = row >= 0 && row < vocab_rows;
    const float* te = wte + row * C;
    const float* pe = wpe ? wpe + static_cast<std::int64_t>(bt % T) * C : nullptr;
    float* o = out + static_cast<std::int64_t>(bt) * C;
    if (here && pe) {
#pragma omp simd
      for (int i = 0; i < C; ++i) o[i] = te[i] + pe[i];
    } else if (here) {
#pragma omp simd
      for (int i = 0; i < C; ++i) o[i] = te[i];
    } else if (pe) {
#pragma omp simd
      for (int i = 0; i < C; ++i) o[i] = pe[i];
    } else {
      for (int i = 0; i < C; ++i) o[i] = 0.0f;
    }
  }
}

void embedding_backward(const std::int32_t* tokens, const float* dout, std::int64_t vocab_rows,
                        std::int64_t vocab_begin, float* dwte, float* dwpe, int B, int T, int C) {
  // Rows of the token table repeat across positions, so threads split the channels instead of
  // the positions: no two threads ever add into the same element.
#pragma omp parallel
  {
    int thread = omp_get_thread_num();
    int team = omp_get_num_threads();
    int begin = C * thread / team;
    int end = C * (thread + 1) / team;
    for (int bt = 0; bt < B * T; ++bt) {
      std::int64_t row = static_cast<std::int64_t>(tokens[bt]) - vocab_begin;
      if (row < 0 || row >= vocab_rows) continue;
      const float* d = dout + static_cast<std::int64_t>(bt) * C;
      float* g = dwte + row * C;
#pragma omp simd
      for (int i = begin; i < end; ++i) g[i] += d[i];
    }
    if (dwpe) {
      for (int bt = 0; bt < B * T; ++bt) {
        const float* d = dout + static_cast<std::int64_t>(bt) * C;
        float* g = dwpe + static_cast<std::int64_t>(bt % T) * C;
#pragma omp simd
        for (int i = begin; i < end; ++i) g[i] += d[i];
      }
    }
  }
}

}  // namespace trellis::cpu
