// Rotary position embedding (the contract is Kernels', the CPU version kernels/cpu/rope.cpp):
// one channel pair of one head of one token per thread; the angle, its cosine and sine and the
// rotation in double, as on the CPU, each result rounded to float once.
#include "device/cuda_check.h"
#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace trellis::cuda {

namespace {

// The position of a block's t-th token: the t-th over the runs, in order.
__device__ std::int64_t position_of(const TokenPositions& at, std::int64_t t) {
  for (int r = 0; r < at.runs; ++r) {
    if (t < at.length[r]) return at.start[r] + t;
    t -= at.length[r];
  }
  return 0;  // unreachable: t < tokens()
}

// Thread i: pair i % half of head (i / half) % heads of row i / (half * heads) (row b * T + t).
__global__ void rope_kernel(float* x, std::int64_t tokens, std::int64_t width, std::int64_t col,
                            std::int64_t heads, std::int64_t head_dim, TokenPositions at,
                            double theta, double direction, std::int64_t n) {
  const std::int64_t half = head_dim / 2;
  for (std::int64_t i = blockIdx.x * std::int64_t{blockDim.x} + threadIdx.x; i < n;
       i += std::int64_t{gridDim.x} * blockDim.x) {
    const std::int64_t pair = i % half, head = i / half % heads, row = i / (half * heads);
    const double position = static_cast<double>(position_of(at, row % tokens));
    const double frequency =
        pow(theta, -2.0 * static_cast<double>(pair) / static_cast<double>(head_dim));
    double s, c;
    sincos(direction * position * frequency, &s, &c);
    float* p = x + row * width + col + head * head_dim + pair;
    const double first = p[0], second = p[half];
    p[0] = static_cast<float>(first * c - second * s);
    p[half] = static_cast<float>(second * c + first * s);
  }
}

}  // namespace

void rope(float* x, int B, std::int64_t width, std::int64_t col, std::int64_t heads,
          std::int64_t head_dim, const TokenPositions& at, double theta, bool inverse) {
  const std::int64_t tokens = at.tokens();
  const std::int64_t n = static_cast<std::int64_t>(B) * tokens * heads * (head_dim / 2);
  if (n == 0) return;
  rope_kernel<<<grid_for(n), kBlock, 0, compute_stream()>>>(x, tokens, width, col, heads, head_dim,
                                                            at, theta, inverse ? -1.0 : 1.0, n);
  check_launch("rope");
}

}  // namespace trellis::cuda
