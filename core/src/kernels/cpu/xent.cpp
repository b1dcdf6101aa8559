// Softmax cross-entropy over the real vocabulary, in steps that let vocabulary shards combine
// their statistics (max, then sum of exponentials and the target's logit) between steps.
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/vector_math.h"

namespace trellis::cpu {

namespace {

// Columns of this shard that stand for real tokens (ids below vocab_size).
int real_columns(int cols, std::int64_t vocab_begin, std::int64_t vocab_size) {
  return static_cast<int>(std::clamp<std::int64_t>(vocab_size - vocab_begin, 0, cols));
}

}  // namespace

void xent_row_max(const float* logits, int rows, int cols, std::int64_t vocab_begin,
                  std::int64_t vocab_size, float* max) {
  int real = real_columns(cols, vocab_begin, vocab_size);
#pragma omp parallel for schedule(static)
  for (int r = 0; r < rows; ++r) {
    const float* row = logits + static_cast<std::int64_t>(r) * cols;
    max[r] = vmax(row, real);
  }
}

void xent_row_stats(const float* logits, const std::int32_t* targets, int rows, int cols,
                    std::int64_t vocab_begin, std::int64_t vocab_size, const float* max,
                    float* sumexp, float* target_logit) {
  int real = real_columns(cols, vocab_begin, vocab_size);
#pragma omp parallel for schedule(static)
  for (int r = 0; r < rows; ++r) {
    const float* row = logits + static_cast<std::int64_t>(r) * cols;
    float m = max[r];
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int j = 0; j < real; ++j) sum += vexp(row[j] - m);
    sumexp[r] = sum;
    std::int64_t col = static_cast<std::int64_t>(targets[r]) - vocab_begin;
    target_logit[r] = (col >= 0 && col < real) ? row[col] : 0.0f;
  }
}

double xent_loss_sum(const float* max, const float* sumexp, const float* target_logit, int rows) {
  double total = 0.0;
#pragma omp parallel for reduction(+ : total) schedule(static)
  for (int r = 0; r < rows; ++r) {
    total += static_cast<double>(std::log(sumexp[r]) + max[r] - target_logit[r]);
  }
  return total;
}

void xent_backward(const float* logits, const std::int32_t* targets, int rows, int cols,
                   std::int64_t vocab_begin, std::int64_t vocab_size, const float* max,
                   const float* sumexp, float scale, float* dlogits) {
  int real = real_columns(cols, vocab_begin, vocab_size);
#pragma omp parallel for schedule(static)
  for (int r = 0; r < rows; ++r) {
    const float* row = logits + static_cast<std::int64_t>(r) * cols;
    float* drow = dlogits + static_cast<std::int64_t>(r) * cols;
    float m = max[r];
    float factor = scale / sumexp[r];
#pragma omp simd
    for (int j = 0; j < real; ++j) drow[j] = vexp(row[j] - m) * factor;
    for (int j = real; j < cols; ++j) drow[j] = 0.0f;
    std::int64_t col = static_cast<std::int64_t>(targets[r]) - vocab_begin;
    if (col >= 0 && col < real) drow[col] -= scale;
  }
}

}  // namespace trellis::cpu
