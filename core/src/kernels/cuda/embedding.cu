// Token + position embeddings; the token table may be a shard of rows standing for ids
// [vocab_begin, vocab_begin + vocab_rows), and ids outside it contribute zero.
#include "device/cuda_check.h"
#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace trellis::cuda {

namespace {

__global__ void embedding_forward_kernel(const std::int32_t* tokens, const float* wte,
                                         std::int64_t vocab_rows, std::int64_t vocab_begin,
                                         const float* wpe, float* out, int T, int C,
                                         std::int64_t n) {
  for (std::int64_t i = blockIdx.x * std::int64_t{blockDim.x} + threadIdx.x; i < n;
       i += std::int64_t{gridDim.x} * blockDim.x) {
    const std::int64_t bt = i / C;
    const int c = static_cast<int>(i % C);
    const std::int64_t row = static_cast<std::int64_t>(tokens[bt]) - vocab_begin;
    float value = (row >= 0 && row < vocab_rows) ? wte[row * C + c] : 0.0f;
    if (wpe) value += wpe[(bt % T) * C + c];
    out[i] = value;
  }
}

// Rows of the token table repeat across positions: atomic adds (their order, and so the last
// bits of a row hit by several tokens, may differ between runs).
__global__ void embedding_token_backward_kernel(const std::int32_t* tokens, const float* dout,
                                                std::int64_t vocab_rows, std::int64_t vocab_begin,
                                                float* dwte, int C, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * std::int64_t{blockDim.x} + threadIdx.x; i < n;
       i += std::int64_t{gridDim.x} * blockDim.x) {
    const std::int64_t bt = i / C;
    const std::int64_t row = static_cast<std::int64_t>(tokens[bt]) - vocab_begin;
    if (row >= 0 && row < vocab_rows) atomicAdd(&dwte[row * C + i % C], dout[i]);
  }
}

// dwpe[t, c] += sum over sequences: one thread per (t, c).
__global__ void embedding_position_backward_kernel(const float* dout, float* dwpe, int B, int T,
                                                   int C) {
  const std::int64_t n = static_cast<std::int64_t>(T) * C;
  for (std::int64_t i = blockIdx.x * std::int64_t{blockDim.x} + threadIdx.x; i < n;
       i += std::int64_t{gridDim.x} * blockDim.x) {
    float sum = 0.0f;
    for (int b = 0; b < B; ++b) sum += dout[b * n + i];
    dwpe[i] += sum;
  }
}

}  // namespace

void embedding_forward(const std::int32_t* tokens, const float* wte, std::int64_t vocab_rows,
                       std::int64_t vocab_begin, const float* wpe, float* out, int B, int T,
                       int C) {
  const std::int64_t n = static_cast<std::int64_t>(B) * T * C;
  if (n == 0) return;
  embedding_forward_kernel<<<grid_for(n), kBlock, 0, compute_stream()>>>(
      tokens, wte, vocab_rows, vocab_begin, wpe, out, T, C, n);
  check_launch("embedding_forward");
}

void embedding_backward(const std::int32_t* tokens, const float* dout, std::int64_t vocab_rows,
                        std::int64_t vocab_begin, float* dwte, float* dwpe, int B, int T, int C) {
  const std::int64_t n = static_cast<std::int64_t>(B) * T * C;
  if (n == 0) return;
  embedding_token_backward_kernel<<<grid_for(n), kBlock, 0, compute_stream()>>>(
      tokens, dout, vocab_rows, vocab_begin, dwte, C, n);
  check_launch("embedding_backward (tokens)");
  if (dwpe) {
    embedding_position_backward_kernel<<<grid_for(static_cast<std::int64_t>(T) * C), kBlock, 0,
                                         compute_stream()>>>(dout, dwpe, B, T, C);
    check_launch("embedding_backward (positions)");
  }
}

}  // namespace trellis::cuda
