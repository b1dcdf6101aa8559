// Softmax cross-entropy over the real vocabulary, in the steps of trellis/kernels.h (max, then
// the sum of exponentials and the target's logit, then the loss or the gradient), so vocabulary
// shards can combine their statistics between steps. One block per row of logits.
#include <algorithm>

#include "device/cuda_check.h"
#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace trellis::cuda {

namespace {

// Columns of this shard that stand for real tokens (ids below vocab_size).
int real_columns(int cols, std::int64_t vocab_begin, std::int64_t vocab_size) {
  return static_cast<int>(std::clamp<std::int64_t>(vocab_size - vocab_begin, 0, cols));
}

__global__ void row_max_kernel(const float* logits, int cols, int real, float* max) {
  const float* row = logits + static_cast<std::int64_t>(blockIdx.x) * cols;
  float m = -INFINITY;
  for (int j = threadIdx.x; j < real; j += blockDim.x) m = fmaxf(m, row[j]);
  m = block_max(m);
  if (threadIdx.x == 0) max[blockIdx.x] = m;
}

__global__ void row_stats_kernel(const float* logits, const std::int32_t* targets, int cols,
                                 int real, std::int64_t vocab_begin, const float* max,
                                 float* sumexp, float* target_logit) {
  const std::int64_t r = blockIdx.x;
  const float* row = logits + r * cols;
  const float m = max[r];
  float sum = 0.0f;
  for (int j = threadIdx.x; j < real; j += blockDim.x) sum += expf(row[j] - m);
  sum = block_sum(sum);
  if (threadIdx.x == 0) {
    sumexp[r] = sum;
    const std::int64_t col = static_cast<std::int64_t>(targets[r]) - vocab_begin;
    target_logit[r] = (col >= 0 && col < real) ? row[col] : 0.0f;
  }
}

__global__ void row_loss_kernel(const float* max, const float* sumexp, const float* target_logit,
                                float* loss, int rows) {
  const int r = blockIdx.x * blockDim.x + threadIdx.x;
  if (r < rows) loss[r] = logf(sumexp[r]) + max[r] - target_logit[r];
}

__global__ void backward_kernel(const float* logits, const std::int32_t* targets, int cols,
                                int real, std::int64_t vocab_begin, const float* max,
                                const float* sumexp, float scale, float* dlogits) {
  const std::int64_t r = blockIdx.x;
  const float* row = logits + r * cols;
  float* drow = dlogits + r * cols;
  const float m = max[r];
  const float factor = scale / sumexp[r];
  const std::int64_t target = static_cast<std::int64_t>(targets[r]) - vocab_begin;
  for (int j = threadIdx.x; j < cols; j += blockDim.x) {
    float d = j < real ? expf(row[j] - m) * factor : 0.0f;
    if (j == target && j < real) d -= scale;
    drow[j] = d;
  }
}

}  // namespace

void xent_row_max(const float* logits, int rows, int cols, std::int64_t vocab_begin,
                  std::int64_t vocab_size, float* max) {
  if (rows == 0) return;
  row_max_kernel<<<rows, kBlock, 0, compute_stream()>>>(
      logits, cols, real_columns(cols, vocab_begin, vocab_size), max);
  check_launch("xent_row_max");
}

void xent_row_stats(const float* logits, const std::int32_t* targets, int rows, int cols,
                    std::int64_t vocab_begin, std::int64_t vocab_size, const float* max,
                    float* sumexp, float* target_logit) {
  if (rows == 0) return;
  row_stats_kernel<<<rows, kBlock, 0, compute_stream()>>>(
      logits, targets, cols, real_columns(cols, vocab_begin, vocab_size), vocab_begin, max, sumexp,
      target_logit);
  check_launch("xent_row_stats");
}

void xent_row_loss(const float* max, const float* sumexp, const float* target_logit, float* loss,
                   int rows) {
  if (rows == 0) return;
  row_loss_kernel<<<(rows + kBlock - 1) / kBlock, kBlock, 0, compute_stream()>>>(
      max, sumexp, target_logit, loss, rows);
  check_launch("xent_loss_sum");
}

void xent_backward(const float* logits, const std::int32_t* targets, int rows, int cols,
                   std::int64_t vocab_begin, std::int64_t vocab_size, const float* max,
                   const float* sumexp, float scale, float* dlogits) {
  if (rows == 0) return;
  backward_kernel<<<rows, kBlock, 0, compute_stream()>>>(
      logits, targets, cols, real_columns(cols, vocab_begin, vocab_size), vocab_begin, max, sumexp,
      scale, dlogits);
  check_launch("xent_backward");
}

}  // namespace trellis::cuda
