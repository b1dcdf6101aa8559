// SwiGLU (the contract is Kernels', the CPU version kernels/cpu/swiglu.cpp), one element of out
// (or of dout) per thread. sigmoid and 1 - sigmoid come from e = exp(-|g|) as 1 / (1 + e) and
// e / (1 + e), as on the CPU, so neither loses its relative accuracy in the tails.
#include "device/cuda_check.h"
#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace trellis::cuda {

namespace {

struct Sigmoid {
  float value;       // sigmoid(g)
  float complement;  // 1 - sigmoid(g)
};

__device__ inline Sigmoid sigmoid(float g) {
  const float e = expf(-fabsf(g));
  const float near_one = 1.0f / (1.0f + e);
  const float near_zero = e * near_one;
  return g >= 0.0f ? Sigmoid{near_one, near_zero} : Sigmoid{near_zero, near_one};
}

__global__ void forward_kernel(const float* gate_up, float* out, std::int64_t cols,
                               std::int64_t n) {
  for (std::int64_t i = blockIdx.x * std::int64_t{blockDim.x} + threadIdx.x; i < n;
       i += std::int64_t{gridDim.x} * blockDim.x) {
    const std::int64_t gate_at = i / cols * 2 * cols + i % cols;
    const float g = gate_up[gate_at];
    out[i] = g * sigmoid(g).value * gate_up[gate_at + cols];
  }
}

// d gate = dout * up * sigmoid(g) * (1 + g * (1 - sigmoid(g))); d up = dout * silu(g).
__global__ void backward_kernel(const float* gate_up, const float* dout, float* dgate_up,
                                std::int64_t cols, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * std::int64_t{blockDim.x} + threadIdx.x; i < n;
       i += std::int64_t{gridDim.x} * blockDim.x) {
    const std::int64_t gate_at = i / cols * 2 * cols + i % cols;
    const float g = gate_up[gate_at], up = gate_up[gate_at + cols], d = dout[i];
    const Sigmoid s = sigmoid(g);
    const float local = s.value * (1.0f + g * s.complement);
    dgate_up[gate_at + cols] = d * (g * s.value);
    dgate_up[gate_at] = (d * up) * local;
  }
}

}  // namespace

void swiglu_forward(const float* gate_up, float* out, std::int64_t rows, std::int64_t cols) {
  const std::int64_t n = rows * cols;
  if (n == 0) return;
  forward_kernel<<<grid_for(n), kBlock, 0, compute_stream()>>>(gate_up, out, cols, n);
  check_launch("swiglu_forward");
}

void swiglu_backward(const float* gate_up, const float* dout, float* dgate_up, std::int64_t rows,
                     std::int64_t cols) {
  const std::int64_t n = rows * cols;
  if (n == 0) return;
  backward_kernel<<<grid_for(n), kBlock, 0, compute_stream()>>>(gate_up, dout, dgate_up, cols, n);
  check_launch("swiglu_backward");
}

}  // namespace trellis::cuda
