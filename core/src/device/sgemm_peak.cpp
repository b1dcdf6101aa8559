#include "device/sgemm_peak.h"

#include <algorithm>
#include <chrono>

namespace trellis {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

constexpr double kBatchSeconds = 0.05;

}  // namespace

std::vector<SgemmShape> sgemm_peak_shapes(int size) {
  const std::int64_t s = size, c = 768;
  const std::string tokens = std::to_string(s);
  return {
      {"square " + tokens, s, s, s, false},
      {"mlp up [" + tokens + ",768]x[768,3072]", s, c, 4 * c, false},
      {"mlp down [" + tokens + ",3072]x[3072,768]", s, 4 * c, c, false},
      {"weight grad [3072," + tokens + "]x[" + tokens + ",768]", 4 * c, s, c, true},
  };
}

SgemmPeak measure_sgemm_peak(Kernels& kernels, const std::shared_ptr<Allocator>& allocator,
                             double seconds, int size) {
  SgemmPeak peak;
  const std::vector<SgemmShape> shapes = sgemm_peak_shapes(size);
  const double share = seconds / static_cast<double>(shapes.size());
  const auto start = Clock::now();
  for (const SgemmShape& shape : shapes) {
    Tensor a = shape.transpose_a ? Tensor::empty({shape.k, shape.m}, DType::f32, allocator)
                                 : Tensor::empty({shape.m, shape.k}, DType::f32, allocator);
    Tensor b = Tensor::empty({shape.k, shape.n}, DType::f32, allocator);
    Tensor c = Tensor::empty({shape.m, shape.n}, DType::f32, allocator);
    kernels.fill(a, 0.5f);
    kernels.fill(b, 0.25f);
    // A device's products run asynchronously: reading one element of the result back (a host
    // result, so it waits for the products) makes each batch's time cover its products.
    const Tensor first = c.view({shape.m * shape.n}).narrow(0, 0, 1);
    auto products = [&](std::int64_t count) {
      for (std::int64_t i = 0; i < count; ++i) kernels.matmul(a, shape.transpose_a, b, false, c);
      (void)kernels.sum_squares(first);
    };
    const auto shape_start = Clock::now();
    const auto warm_until = shape_start + std::chrono::duration<double>(share * 0.2);
    do products(1);
    while (Clock::now() < warm_until);
    // Products a batch needs to last kBatchSeconds, from the warm-up's last one.
    auto t0 = Clock::now();
    products(1);
    const double one = std::max(seconds_between(t0, Clock::now()), 1e-9);
    const auto per_batch = static_cast<std::int64_t>(std::max(1.0, kBatchSeconds / one));
    SgemmRate rate{shape, 0.0, 0};
    const auto shape_until = shape_start + std::chrono::duration<double>(share);
    do {
      t0 = Clock::now();
      products(per_batch);
      const double t = seconds_between(t0, Clock::now());
      rate.flops_per_s =
          std::max(rate.flops_per_s, shape.flops() * static_cast<double>(per_batch) / t);
      rate.products += per_batch;
    } while (Clock::now() < shape_until);
    peak.flops_per_s = std::max(peak.flops_per_s, rate.flops_per_s);
    peak.rates.push_back(std::move(rate));
  }
  peak.seconds = seconds_between(start, Clock::now());
  return peak;
}

}  // namespace trellis
