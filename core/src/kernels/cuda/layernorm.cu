// LayerNorm (eps 1e-5, biased variance) over a shard of each row's channels, in the steps of
// trellis/kernels.h; with one shard the steps are the whole-row LayerNorm. One block per row for
// the row statistics and dx; one thread per channel, looping over the rows, for dw and db (no
// atomics: the sums are the same in every run).
#include "device/cuda_check.h"
#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace trellis::cuda {

namespace {

constexpr float kEps = 1e-5f;

__global__ void mean_kernel(const float* x, float* mean, int cols, float channels) {
  const float* xr = x + static_cast<std::int64_t>(blockIdx.x) * cols;
  float sum = 0.0f;
  for (int i = threadIdx.x; i < cols; i += blockDim.x) sum += xr[i];
  sum = block_sum(sum);
  if (threadIdx.x == 0) mean[blockIdx.x] = sum / channels;
}

__global__ void var_kernel(const float* x, const float* mean, float* var, int cols,
                           float channels) {
  const float* xr = x + static_cast<std::int64_t>(blockIdx.x) * cols;
  const float m = mean[blockIdx.x];
  float sq = 0.0f;
  for (int i = threadIdx.x; i < cols; i += blockDim.x) {
    const float d = xr[i] - m;
    sq += d * d;
  }
  sq = block_sum(sq);
  if (threadIdx.x == 0) var[blockIdx.x] = sq / channels;
}

// rstd may be var: every thread reads the row's var before thread 0 writes rstd.
__global__ void forward_kernel(const float* x, const float* w, const float* b, const float* mean,
                               const float* var, float* out, float* rstd, int cols) {
  const std::int64_t row = blockIdx.x;
  const float m = mean[row];
  const float s = 1.0f / sqrtf(var[row] + kEps);
  __syncthreads();
  const float* xr = x + row * cols;
  float* outr = out + row * cols;
  for (int i = threadIdx.x; i < cols; i += blockDim.x) outr[i] = (xr[i] - m) * s * w[i] + b[i];
  if (threadIdx.x == 0) rstd[row] = s;
}

__global__ void backward_sums_kernel(const float* dout, const float* x, const float* w,
                                     const float* mean, const float* rstd, float* dsums, int rows,
                                     int cols, float channels) {
  const std::int64_t row = blockIdx.x;
  const float* xr = x + row * cols;
  const float* dr = dout + row * cols;
  const float m = mean[row], s = rstd[row];
  float dnorm_mean = 0.0f, dnorm_norm_mean = 0.0f;
  for (int i = threadIdx.x; i < cols; i += blockDim.x) {
    const float norm = (xr[i] - m) * s;
    const float dnorm = w[i] * dr[i];
    dnorm_mean += dnorm;
    dnorm_norm_mean += dnorm * norm;
  }
  dnorm_mean = block_sum(dnorm_mean);
  dnorm_norm_mean = block_sum(dnorm_norm_mean);
  if (threadIdx.x == 0) {
    dsums[row] = dnorm_mean / channels;
    dsums[rows + row] = dnorm_norm_mean / channels;
  }
}

__global__ void backward_dx_kernel(const float* dout, const float* x, const float* w,
                                   const float* mean, const float* rstd, const float* dsums,
                                   float* dx, int rows, int cols) {
  const std::int64_t row = blockIdx.x;
  const float* xr = x + row * cols;
  const float* dr = dout + row * cols;
  float* dxr = dx + row * cols;
  const float m = mean[row], s = rstd[row];
  const float dnorm_mean = dsums[row], dnorm_norm_mean = dsums[rows + row];
  for (int i = threadIdx.x; i < cols; i += blockDim.x) {
    const float norm = (xr[i] - m) * s;
    const float dnorm = w[i] * dr[i];
    dxr[i] = (dnorm - dnorm_mean - norm * dnorm_norm_mean) * s;
  }
}

__global__ void backward_params_kernel(const float* dout, const float* x, const float* mean,
                                       const float* rstd, float* dw, float* db, int rows,
                                       int cols) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= cols) return;
  float sum_dw = 0.0f, sum_db = 0.0f;
  for (int r = 0; r < rows; ++r) {
    const std::int64_t at = static_cast<std::int64_t>(r) * cols + c;
    const float d = dout[at];
    sum_db += d;
    sum_dw += (x[at] - mean[r]) * rstd[r] * d;
  }
  dw[c] += sum_dw;
  db[c] += sum_db;
}

}  // namespace

void layernorm_shard_mean(const float* x, float* mean, int rows, int cols, std::int64_t channels) {
  if (rows == 0) return;
  mean_kernel<<<rows, kBlock, 0, compute_stream()>>>(x, mean, cols, static_cast<float>(channels));
  check_launch("layernorm mean");
}

void layernorm_shard_var(const float* x, const float* mean, float* var, int rows, int cols,
                         std::int64_t channels) {
  if (rows == 0) return;
  var_kernel<<<rows, kBlock, 0, compute_stream()>>>(x, mean, var, cols,
                                                    static_cast<float>(channels));
  check_launch("layernorm variance");
}

void layernorm_shard_forward(const float* x, const float* w, const float* b, const float* mean,
                             const float* var, float* out, float* rstd, int rows, int cols) {
  if (rows == 0) return;
  forward_kernel<<<rows, kBlock, 0, compute_stream()>>>(x, w, b, mean, var, out, rstd, cols);
  check_launch("layernorm forward");
}

void layernorm_shard_backward_sums(const float* dout, const float* x, const float* w,
                                   const float* mean, const float* rstd, float* dsums, int rows,
                                   int cols, std::int64_t channels) {
  if (rows == 0) return;
  backward_sums_kernel<<<rows, kBlock, 0, compute_stream()>>>(dout, x, w, mean, rstd, dsums, rows,
                                                              cols, static_cast<float>(channels));
  check_launch("layernorm backward sums");
}

void layernorm_shard_backward(const float* dout, const float* x, const float* w, const float* mean,
                              const float* rstd, const float* dsums, float* dx, float* dw,
                              float* db, int rows, int cols) {
  if (rows == 0 || cols == 0) return;
  backward_dx_kernel<<<rows, kBlock, 0, compute_stream()>>>(dout, x, w, mean, rstd, dsums, dx, rows,
                                                            cols);
  check_launch("layernorm backward dx");
  backward_params_kernel<<<(cols + kBlock - 1) / kBlock, kBlock, 0, compute_stream()>>>(
      dout, x, mean, rstd, dw, db, rows, cols);
  check_launch("layernorm backward dw, db");
}

}  // namespace trellis::cuda
