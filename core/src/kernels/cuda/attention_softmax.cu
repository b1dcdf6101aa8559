// The causal softmax of attention scores and its backward, one block per row of T scores (row r
// is query t = r % T, which sees keys 0..t). The products around them are cuBLAS's
// (cuda_kernels.cu).
#include "device/cuda_check.h"
#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace trellis::cuda {

namespace {

__global__ void causal_softmax_kernel(float* scores, int T) {
  float* row = scores + static_cast<std::int64_t>(blockIdx.x) * T;
  const int t = static_cast<int>(blockIdx.x % T);
  float max = -INFINITY;
  for (int j = threadIdx.x; j <= t; j += blockDim.x) max = fmaxf(max, row[j]);
  max = block_max(max);
  float sum = 0.0f;
  for (int j = threadIdx.x; j <= t; j += blockDim.x) {
    const float e = expf(row[j] - max);
    row[j] = e;
    sum += e;
  }
  sum = block_sum(sum);
  const float inv = 1.0f / sum;
  for (int j = threadIdx.x; j < T; j += blockDim.x) row[j] = j <= t ? row[j] * inv : 0.0f;
}

__global__ void causal_softmax_backward_kernel(const float* probs, float* dprobs, int T) {
  const std::int64_t offset = static_cast<std::int64_t>(blockIdx.x) * T;
  const float* p = probs + offset;
  float* d = dprobs + offset;
  const int t = static_cast<int>(blockIdx.x % T);
  float dot = 0.0f;
  for (int j = threadIdx.x; j <= t; j += blockDim.x) dot += p[j] * d[j];
  dot = block_sum(dot);
  for (int j = threadIdx.x; j < T; j += blockDim.x) d[j] = j <= t ? p[j] * (d[j] - dot) : 0.0f;
}

}  // namespace

void causal_softmax(float* scores, std::int64_t rows, int T) {
  if (rows == 0) return;
  causal_softmax_kernel<<<static_cast<unsigned>(rows), kBlock, 0, compute_stream()>>>(scores, T);
  check_launch("attention softmax");
}

void causal_softmax_backward(const float* probs, float* dprobs, std::int64_t rows, int T) {
  if (rows == 0) return;
  causal_softmax_backward_kernel<<<static_cast<unsigned>(rows), kBlock, 0, compute_stream()>>>(
      probs, dprobs, T);
  check_launch("attention softmax backward");
}

}  // namespace trellis::cuda
