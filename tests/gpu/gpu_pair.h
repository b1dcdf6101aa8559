// The same tensor on the CPU and on the GPU, and the comparisons of the CUDA kernels against the
// CPU ones: each kernel runs on both copies and the results must agree within a tolerance.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "device/cuda_device.h"
#include "trellis/kernels.h"
#include "trellis/tensor.h"

namespace trellis::gpu_test {

struct Pair {
  Tensor host;
  Tensor device;
};

class Devices {
 public:
  explicit Devices(CudaPrecision precision = CudaPrecision::f32);

  Kernels& cpu() { return *cpu_; }
  Kernels& gpu() { return *gpu_; }
  const std::shared_ptr<Allocator>& device_allocator() const { return device_allocator_; }

  // Uniform values in [-scale, scale), the same for a given seed.
  Pair random(const Shape& shape, std::uint64_t seed, float scale = 1.0f);
  Pair zeros(const Shape& shape);
  // Token ids in [0, vocab).
  Pair tokens(const Shape& shape, std::uint64_t seed, int vocab);
  // The device copy, brought back to the host.
  std::vector<float> download(const Tensor& device_tensor);
  // "" when every element of the device copy is within `tolerance` of the host copy (relative to
  // 1 + |host value|), else the worst element.
  std::string compare(const Pair& pair, double tolerance);

 private:
  std::shared_ptr<Allocator> host_allocator_;
  std::shared_ptr<Allocator> device_allocator_;
  std::shared_ptr<Kernels> cpu_;
  std::shared_ptr<Kernels> gpu_;
};

// Kernels on both devices, for a kernel call written once: f(kernels, pick) where pick(pair)
// gives the pair's tensor for that device.
template <class Call>
void on_both(Devices& devices, Call call) {
  call(devices.cpu(), [](const Pair& p) { return p.host; });
  call(devices.gpu(), [](const Pair& p) { return p.device; });
}

}  // namespace trellis::gpu_test
