#include "gpu_pair.h"

#include <cmath>
#include <cstring>

#include "kernels/cpu/cpu_kernels.h"

namespace trellis::gpu_test {

namespace {

// splitmix64: a stream of well-mixed 64-bit values from a seed.
std::uint64_t mix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::string describe(std::int64_t at, const Pair& pair, float got, float want) {
  return "element " + std::to_string(at) + " of " + pair.host.str() + ": device " +
         std::to_string(got) + ", cpu " + std::to_string(want);
}

}  // namespace

Devices::Devices(CudaPrecision precision)
    : host_allocator_(make_cpu_allocator()),
      device_allocator_(make_cuda_allocator(0)),
      cpu_(make_cpu_kernels(1)),
      device_(make_cuda_kernels(0, precision)) {}

Devices::Devices(std::shared_ptr<Kernels> device)
    : host_allocator_(make_cpu_allocator()),
      device_allocator_(host_allocator_),
      cpu_(make_cpu_kernels(1)),
      device_(std::move(device)) {}

Pair Devices::random(const Shape& shape, std::uint64_t seed, float scale) {
  Pair pair{Tensor::empty(shape, DType::f32, host_allocator_),
            Tensor::empty(shape, DType::f32, device_allocator_)};
  std::uint64_t state = seed;
  float* data = pair.host.data<float>();
  for (std::int64_t i = 0; i < pair.host.numel(); ++i) {
    data[i] = scale * (static_cast<float>(mix(state) >> 40) / static_cast<float>(1 << 23) - 1.0f);
  }
  device_->copy(pair.host, pair.device);
  return pair;
}

Pair Devices::zeros(const Shape& shape) {
  Pair pair{Tensor::empty(shape, DType::f32, host_allocator_),
            Tensor::empty(shape, DType::f32, device_allocator_)};
  cpu_->fill(pair.host, 0.0f);
  device_->fill(pair.device, 0.0f);
  return pair;
}

Pair Devices::tokens(const Shape& shape, std::uint64_t seed, int vocab) {
  Pair pair{Tensor::empty(shape, DType::i32, host_allocator_),
            Tensor::empty(shape, DType::i32, device_allocator_)};
  std::uint64_t state = seed;
  auto* data = pair.host.data<std::int32_t>();
  for (std::int64_t i = 0; i < pair.host.numel(); ++i) {
    data[i] = static_cast<std::int32_t>(mix(state) % static_cast<std::uint64_t>(vocab));
  }
  device_->copy(pair.host, pair.device);
  return pair;
}

std::vector<float> Devices::download(const Tensor& device_tensor) {
  std::vector<float> values(static_cast<std::size_t>(device_tensor.numel()));
  Tensor host = Tensor::borrow(values.data(), device_tensor.shape(), DType::f32);
  device_->copy(device_tensor, host);
  return values;
}

Tensor Devices::to_host(const Tensor& device_tensor) {
  if (!device_tensor.defined()) return Tensor();
  Tensor host = Tensor::empty(device_tensor.shape(), device_tensor.dtype(), host_allocator_);
  device_->copy(device_tensor, host);
  return host;
}

std::string Devices::compare(const Pair& pair, double tolerance) {
  const std::vector<float> got = download(pair.device);
  const float* want = pair.host.data<float>();
  double worst = 0.0;
  std::int64_t at = -1;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double error =
        std::fabs(static_cast<double>(got[i]) - want[i]) / (1.0 + std::fabs(want[i]));
    if (!(error <= worst)) {  // NaN counts as the worst
      worst = std::isnan(error) ? INFINITY : error;
      at = static_cast<std::int64_t>(i);
    }
  }
  if (worst <= tolerance) return std::string();
  return describe(at, pair, got[static_cast<std::size_t>(at)], want[at]) + " (relative error " +
         std::to_string(worst) + " > " + std::to_string(tolerance) + ")";
}

std::string Devices::compare(const Pair& pair, const std::vector<double>& bound) {
  const std::vector<float> got = download(pair.device);
  const float* want = pair.host.data<float>();
  if (bound.size() != got.size()) {
    return "a bound of " + std::to_string(bound.size()) + " elements for " + pair.host.str();
  }
  double worst = 0.0;  // the largest error / bound
  std::int64_t at = -1;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double error = std::fabs(static_cast<double>(got[i]) - want[i]);
    const double ratio = error == 0.0 ? 0.0 : error / bound[i];
    if (!(ratio <= worst)) {  // NaN counts as the worst
      worst = std::isnan(ratio) ? INFINITY : ratio;
      at = static_cast<std::int64_t>(i);
    }
  }
  if (worst <= 1.0) return std::string();
  const std::size_t i = static_cast<std::size_t>(at);
  return describe(at, pair, got[i], want[at]) + " (error " +
         std::to_string(std::fabs(static_cast<double>(got[i]) - want[at])) + " > bound " +
         std::to_string(bound[i]) + ", " + std::to_string(worst) + " times over)";
}

}  // namespace trellis::gpu_test
