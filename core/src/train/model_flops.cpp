#include "train/model_flops.h"

#include <algorithm>
#include <chrono>

namespace trellis {

std::int64_t parameter_count(const ModelDims& d) {
  const std::int64_t C = d.hidden;
  const std::int64_t per_block = 2 * C                // ln1
                                 + 3 * C * C + 3 * C  // qkv
                                 + C * C + C          // attention projection
                                 + 2 * C              // ln2
                                 + 4 * C * C + 4 * C  // fc
                                 + 4 * C * C + C;     // mlp projection
  return d.padded_vocab * C + d.max_seq_len * C + d.layers * per_block + 2 * C;
}

double flops_per_token(const ModelDims& d) {
  return 6.0 * static_cast<double>(parameter_count(d)) + 12.0 * static_cast<double>(d.layers) *
                                                             static_cast<double>(d.hidden) *
                                                             static_cast<double>(d.seq_len);
}

double measure_sgemm_peak(Kernels& kernels, const std::shared_ptr<Allocator>& allocator, int size) {
  const std::int64_t n = size;
  Tensor a = Tensor::empty({n, n}, DType::f32, allocator);
  Tensor b = Tensor::empty({n, n}, DType::f32, allocator);
  Tensor c = Tensor::empty({n, n}, DType::f32, allocator);
  kernels.fill(a, 0.5f);
  kernels.fill(b, 0.25f);
  // The first products pay for page faults, thread start-up and clock ramp-up: warm up for a
  // while, then keep the best of the runs within a fixed time (at least 8).
  using Clock = std::chrono::steady_clock;
  auto warm_until = Clock::now() + std::chrono::milliseconds(150);
  // A device's products run asynchronously: reading one element of the result back (a host
  // result, so it waits for the product) makes each timing cover the whole product.
  const Tensor first = c.view({n * n}).narrow(0, 0, 1);
  auto product = [&] {
    kernels.matmul(a, false, b, false, c);
    (void)kernels.sum_squares(first);
  };
  while (Clock::now() < warm_until) product();
  double best = 1e30;
  auto measure_until = Clock::now() + std::chrono::milliseconds(250);
  for (int i = 0; i < 8 || Clock::now() < measure_until; ++i) {
    auto t0 = Clock::now();
    product();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return 2.0 * static_cast<double>(n) * n * n / best;
}

}  // namespace trellis
