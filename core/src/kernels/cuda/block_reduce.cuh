// Sums and maxima over the threads of a block (warp shuffles, then one value per warp through
// shared memory). Every thread of the block must call them; every thread gets the result.
#pragma once

#include <cuda_runtime.h>

#include <cfloat>

namespace trellis::cuda {

constexpr int kBlock = 256;  // threads of every block the kernels launch
constexpr int kWarps = kBlock / 32;

__device__ inline float warp_sum(float value) {
  for (int offset = 16; offset > 0; offset /= 2)
    value += __shfl_xor_sync(0xffffffffu, value, offset);
  return value;
}

__device__ inline float warp_max(float value) {
  for (int offset = 16; offset > 0; offset /= 2) {
    value = fmaxf(value, __shfl_xor_sync(0xffffffffu, value, offset));
  }
  return value;
}

__device__ inline double warp_sum(double value) {
  for (int offset = 16; offset > 0; offset /= 2)
    value += __shfl_xor_sync(0xffffffffu, value, offset);
  return value;
}

// `shared` holds kWarps values; the block is kBlock threads.
template <class T, class Combine>
__device__ inline T block_combine(T value, T* shared, T identity, Combine combine) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  value = combine(value);
  __syncthreads();  // `shared` may still be read from a previous call
  if (lane == 0) shared[warp] = value;
  __syncthreads();
  value = lane < kWarps ? shared[lane] : identity;
  return combine(value);
}

__device__ inline float block_sum(float value) {
  __shared__ float shared[kWarps];
  return block_combine(value, shared, 0.0f, [](float v) { return warp_sum(v); });
}

__device__ inline float block_max(float value) {
  __shared__ float shared[kWarps];
  return block_combine(value, shared, -INFINITY, [](float v) { return warp_max(v); });
}

__device__ inline double block_sum(double value) {
  __shared__ double shared[kWarps];
  return block_combine(value, shared, 0.0, [](double v) { return warp_sum(v); });
}

}  // namespace trellis::cuda
