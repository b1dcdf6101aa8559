// RMSNorm (the contract is Kernels', the CPU version kernels/cpu/rmsnorm.cpp): the row sums in
// double, as on the CPU. One block per row for rstd, out and dx; one thread per channel, looping
// over the rows, for dw (no atomics: the sums are the same in every run).
#include "device/cuda_check.h"
#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace trellis::cuda {

namespace {

__global__ void forward_kernel(const float* x, const float* w, float eps, float* out, float* rstd,
                               int cols) {
  const std::int64_t row = blockIdx.x;
  const float* xr = x + row * cols;
  float* outr = out + row * cols;
  double sq = 0.0;
  for (int i = threadIdx.x; i < cols; i += blockDim.x) sq += static_cast<double>(xr[i]) * xr[i];
  sq = block_sum(sq);
  const float s = static_cast<float>(1.0 / sqrt(sq / cols + static_cast<double>(eps)));
  for (int i = threadIdx.x; i < cols; i += blockDim.x) outr[i] = xr[i] * s * w[i];
  if (threadIdx.x == 0) rstd[row] = s;
}

// dx = (dnorm - norm * mean(dnorm * norm)) * rstd, with norm = x * rstd and dnorm = w * dout.
__global__ void backward_dx_kernel(const float* dout, const float* x, const float* w,
                                   const float* rstd, float* dx, int cols) {
  const std::int64_t row = blockIdx.x;
  const float* xr = x + row * cols;
  const float* dr = dout + row * cols;
  float* dxr = dx + row * cols;
  const float s = rstd[row];
  double dnorm_norm = 0.0;
  for (int i = threadIdx.x; i < cols; i += blockDim.x) {
    const float norm = xr[i] * s;
    const float dnorm = w[i] * dr[i];
    dnorm_norm += static_cast<double>(dnorm) * norm;
  }
  dnorm_norm = block_sum(dnorm_norm);
  const float dnorm_norm_mean = static_cast<float>(dnorm_norm / cols);
  for (int i = threadIdx.x; i < cols; i += blockDim.x) {
    const float norm = xr[i] * s;
    const float dnorm = w[i] * dr[i];
    dxr[i] = (dnorm - norm * dnorm_norm_mean) * s;
  }
}

__global__ void backward_dw_kernel(const float* dout, const float* x, const float* rstd, float* dw,
                                   int rows, int cols) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= cols) return;
  float sum = 0.0f;
  for (int r = 0; r < rows; ++r) {
    const std::int64_t at = static_cast<std::int64_t>(r) * cols + c;
    sum += x[at] * rstd[r] * dout[at];
  }
  dw[c] += sum;
}

}  // namespace

void rmsnorm_forward(const float* x, const float* w, float eps, float* out, float* rstd, int rows,
                     int cols) {
  if (rows == 0) return;
  forward_kernel<<<rows, kBlock, 0, compute_stream()>>>(x, w, eps, out, rstd, cols);
  check_launch("rmsnorm forward");
}

void rmsnorm_backward(const float* dout, const float* x, const float* w, const float* rstd,
                      float* dx, float* dw, int rows, int cols) {
  if (rows == 0 || cols == 0) return;
  backward_dx_kernel<<<rows, kBlock, 0, compute_stream()>>>(dout, x, w, rstd, dx, cols);
  check_launch("rmsnorm backward dx");
  backward_dw_kernel<<<(cols + kBlock - 1) / kBlock, kBlock, 0, compute_stream()>>>(dout, x, rstd,
                                                                                    dw, rows, cols);
  check_launch("rmsnorm backward dw");
}

}  // namespace trellis::cuda
