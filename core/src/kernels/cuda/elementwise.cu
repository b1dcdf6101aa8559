// Elementwise kernels, reductions to one number, bias rows and column sums, bf16 conversions.
#include <algorithm>

#include "device/cuda_check.h"
#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace trellis::cuda {

namespace {

constexpr int kSumBlock = 1024;  // elements per float partial sum (as the CPU kernel)

__global__ void fill_kernel(float* x, std::int64_t n, float value) {
  for (std::int64_t i = blockIdx.x * std::int64_t{blockDim.x} + threadIdx.x; i < n;
       i += std::int64_t{gridDim.x} * blockDim.x) {
    x[i] = value;
  }
}

__global__ void add_kernel(const float* a, const float* b, float* out, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * std::int64_t{blockDim.x} + threadIdx.x; i < n;
       i += std::int64_t{gridDim.x} * blockDim.x) {
    out[i] = a[i] + b[i];
  }
}

__global__ void accumulate_kernel(float* dst, const float* src, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * std::int64_t{blockDim.x} + threadIdx.x; i < n;
       i += std::int64_t{gridDim.x} * blockDim.x) {
    dst[i] += src[i];
  }
}

__global__ void scale_kernel(float* x, std::int64_t n, float factor) {
  for (std::int64_t i = blockIdx.x * std::int64_t{blockDim.x} + threadIdx.x; i < n;
       i += std::int64_t{gridDim.x} * blockDim.x) {
    x[i] *= factor;
  }
}

// One block per 1024 elements: their float sum of squares.
__global__ void partial_squares_kernel(const float* x, std::int64_t n, float* partial) {
  const std::int64_t begin = blockIdx.x * std::int64_t{kSumBlock};
  float sum = 0.0f;
  for (int i = threadIdx.x; i < kSumBlock; i += blockDim.x) {
    if (begin + i < n) {
      const float v = x[begin + i];
      sum += v * v;
    }
  }
  sum = block_sum(sum);
  if (threadIdx.x == 0) partial[blockIdx.x] = sum;
}

// One block: the double sum of n floats.
__global__ void sum_double_kernel(const float* values, std::int64_t n, double* total) {
  double sum = 0.0;
  for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) sum += static_cast<double>(values[i]);
  sum = block_sum(sum);
  if (threadIdx.x == 0) *total = sum;
}

__global__ void add_bias_rows_kernel(float* out, const float* b, std::int64_t n, int cols) {
  for (std::int64_t i = blockIdx.x * std::int64_t{blockDim.x} + threadIdx.x; i < n;
       i += std::int64_t{gridDim.x} * blockDim.x) {
    out[i] += b[i % cols];
  }
}

// One thread per column: reads of a row are coalesced across the threads.
__global__ void column_sums_kernel(const float* dout, std::int64_t rows, int cols, float* db) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= cols) return;
  float sum = 0.0f;
  for (std::int64_t r = 0; r < rows; ++r) sum += dout[r * cols + c];
  db[c] += sum;
}

__global__ void f32_to_bf16_kernel(const float* x, __nv_bfloat16* out, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * std::int64_t{blockDim.x} + threadIdx.x; i < n;
       i += std::int64_t{gridDim.x} * blockDim.x) {
    out[i] = __float2bfloat16_rn(x[i]);
  }
}

__global__ void bf16_to_f32_kernel(const __nv_bfloat16* x, float* out, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * std::int64_t{blockDim.x} + threadIdx.x; i < n;
       i += std::int64_t{gridDim.x} * blockDim.x) {
    out[i] = __bfloat162float(x[i]);
  }
}

}  // namespace

int grid_for(std::int64_t n) {
  const std::int64_t blocks = (n + kBlock - 1) / kBlock;
  return static_cast<int>(std::clamp<std::int64_t>(blocks, 1, 65535 * 8));
}

void fill(float* x, std::int64_t n, float value) {
  if (n == 0) return;
  fill_kernel<<<grid_for(n), kBlock, 0, compute_stream()>>>(x, n, value);
  check_launch("fill");
}

void add(const float* a, const float* b, float* out, std::int64_t n) {
  if (n == 0) return;
  add_kernel<<<grid_for(n), kBlock, 0, compute_stream()>>>(a, b, out, n);
  check_launch("add");
}

void accumulate(float* dst, const float* src, std::int64_t n) {
  if (n == 0) return;
  accumulate_kernel<<<grid_for(n), kBlock, 0, compute_stream()>>>(dst, src, n);
  check_launch("accumulate");
}

void scale(float* x, std::int64_t n, float factor) {
  if (n == 0) return;
  scale_kernel<<<grid_for(n), kBlock, 0, compute_stream()>>>(x, n, factor);
  check_launch("scale");
}

void sum_squares(const float* x, std::int64_t n, float* partial, double* total) {
  const std::int64_t blocks = (n + kSumBlock - 1) / kSumBlock;
  if (blocks > 0) {
    partial_squares_kernel<<<static_cast<unsigned>(blocks), kBlock, 0, compute_stream()>>>(x, n,
                                                                                           partial);
    check_launch("sum_squares");
  }
  sum_double(partial, blocks, total);
}

void sum_double(const float* values, std::int64_t n, double* total) {
  sum_double_kernel<<<1, kBlock, 0, compute_stream()>>>(values, n, total);
  check_launch("sum_double");
}

void add_bias_rows(float* out, const float* b, std::int64_t rows, int cols) {
  const std::int64_t n = rows * cols;
  if (n == 0) return;
  add_bias_rows_kernel<<<grid_for(n), kBlock, 0, compute_stream()>>>(out, b, n, cols);
  check_launch("add_bias_rows");
}

void column_sums_accumulate(const float* dout, std::int64_t rows, int cols, float* db) {
  if (cols == 0) return;
  column_sums_kernel<<<(cols + kBlock - 1) / kBlock, kBlock, 0, compute_stream()>>>(dout, rows,
                                                                                    cols, db);
  check_launch("column_sums");
}

void f32_to_bf16(const float* x, __nv_bfloat16* out, std::int64_t n) {
  if (n == 0) return;
  f32_to_bf16_kernel<<<grid_for(n), kBlock, 0, compute_stream()>>>(x, out, n);
  check_launch("f32_to_bf16");
}

void bf16_to_f32(const __nv_bfloat16* x, float* out, std::int64_t n) {
  if (n == 0) return;
  bf16_to_f32_kernel<<<grid_for(n), kBlock, 0, compute_stream()>>>(x, out, n);
  check_launch("bf16_to_f32");
}

}  // namespace trellis::cuda
