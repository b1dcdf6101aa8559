// GELU and AdamW, one element per thread.
//
// GELU with the tanh approximation, as torch.nn.functional.gelu(x, approximate="tanh"). The
// derivative takes 1 + tanh and 1 - tanh^2 from 2 / (e^{2|u|} + 1), as the CPU kernel does, which
// keeps the tails exact.
#include "device/cuda_check.h"
#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace trellis::cuda {

namespace {

constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kCubic = 0.044715f;

struct TanhParts {
  float one_plus;  // 1 + tanh(u)
  float sech2;     // 1 - tanh(u)^2
};

__device__ inline TanhParts tanh_parts(float u) {
  const float small = 2.0f / (expf(2.0f * fabsf(u)) + 1.0f);  // 1 - tanh|u|
  const float one_plus = u >= 0.0f ? 2.0f - small : small;
  return {one_plus, small * (2.0f - small)};
}

__global__ void gelu_forward_kernel(const float* x, float* out, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * std::int64_t{blockDim.x} + threadIdx.x; i < n;
       i += std::int64_t{gridDim.x} * blockDim.x) {
    const float v = x[i];
    const float inner = kSqrt2OverPi * (v + kCubic * v * v * v);
    out[i] = 0.5f * v * tanh_parts(inner).one_plus;
  }
}

__global__ void gelu_backward_kernel(const float* x, const float* dout, float* dx, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * std::int64_t{blockDim.x} + threadIdx.x; i < n;
       i += std::int64_t{gridDim.x} * blockDim.x) {
    const float v = x[i];
    const float inner = kSqrt2OverPi * (v + kCubic * v * v * v);
    const TanhParts t = tanh_parts(inner);
    const float local =
        0.5f * t.one_plus + 0.5f * v * t.sech2 * kSqrt2OverPi * (1.0f + 3.0f * kCubic * v * v);
    dx[i] = local * dout[i];
  }
}

__global__ void adamw_kernel(float* param, const float* grad, float* m, float* v, std::int64_t n,
                             float decay, float beta1, float beta2, float eps, float step_size,
                             float bias_correction2_sqrt) {
  for (std::int64_t i = blockIdx.x * std::int64_t{blockDim.x} + threadIdx.x; i < n;
       i += std::int64_t{gridDim.x} * blockDim.x) {
    const float g = grad[i];
    const float p = param[i] * decay;
    const float mi = m[i] * beta1 + (1.0f - beta1) * g;
    const float vi = v[i] * beta2 + (1.0f - beta2) * g * g;
    const float denom = sqrtf(vi) / bias_correction2_sqrt + eps;
    param[i] = p - step_size * (mi / denom);
    m[i] = mi;
    v[i] = vi;
  }
}

}  // namespace

void gelu_forward(const float* x, float* out, std::int64_t n) {
  if (n == 0) return;
  gelu_forward_kernel<<<grid_for(n), kBlock, 0, compute_stream()>>>(x, out, n);
  check_launch("gelu_forward");
}

void gelu_backward(const float* x, const float* dout, float* dx, std::int64_t n) {
  if (n == 0) return;
  gelu_backward_kernel<<<grid_for(n), kBlock, 0, compute_stream()>>>(x, dout, dx, n);
  check_launch("gelu_backward");
}

void adamw(float* param, const float* grad, float* m, float* v, std::int64_t n, float decay,
           float beta1, float beta2, float eps, float step_size, float bias_correction2_sqrt) {
  if (n == 0) return;
  adamw_kernel<<<grid_for(n), kBlock, 0, compute_stream()>>>(
      param, grad, m, v, n, decay, beta1, beta2, eps, step_size, bias_correction2_sqrt);
  check_launch("adamw");
}

}  // namespace trellis::cuda
