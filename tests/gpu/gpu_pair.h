// The same tensor on the CPU and on a device under test, and the comparisons of the device's
// kernels against the CPU ones: each kernel runs on both copies and the results must agree within
// a tolerance, or within a bound computed for each element.
//
// The device is GPU 0's CUDA kernels, or any Kernels on host memory (the bf16 emulation, or one
// with a fault put in), which lets the checks themselves be tested without a GPU.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "device/cuda_device.h"
#include "kernels/cuda_kernels.h"
#include "trellis/kernels.h"
#include "trellis/tensor.h"

namespace trellis::gpu_test {

struct Pair {
  Tensor host;
  Tensor device;
};

class Devices {
 public:
  // The CPU against the CUDA kernels of GPU 0 in `precision`.
  explicit Devices(CudaPrecision precision = CudaPrecision::f32);
  // The CPU against `device`, whose tensors are in host memory.
  explicit Devices(std::shared_ptr<Kernels> device);

  Kernels& cpu() { return *cpu_; }
  Kernels& device() { return *device_; }
  const std::shared_ptr<Allocator>& device_allocator() const { return device_allocator_; }

  // Uniform values in [-scale, scale), the same for a given seed.
  Pair random(const Shape& shape, std::uint64_t seed, float scale = 1.0f);
  Pair zeros(const Shape& shape);
  // Token ids in [0, vocab).
  Pair tokens(const Shape& shape, std::uint64_t seed, int vocab);
  // The device copy, brought back to the host.
  std::vector<float> download(const Tensor& device_tensor);
  // The same, as a host tensor of its shape and type (undefined for an undefined tensor).
  Tensor to_host(const Tensor& device_tensor);
  // "" when every element of the device copy is within `tolerance` of the host copy (relative to
  // 1 + |host value|), else the worst element.
  std::string compare(const Pair& pair, double tolerance);
  // "" when every element i of the device copy is within bound[i] of the host copy, else the
  // element furthest outside its bound (the largest error / bound).
  std::string compare(const Pair& pair, const std::vector<double>& bound);

 private:
  std::shared_ptr<Allocator> host_allocator_;
  std::shared_ptr<Allocator> device_allocator_;
  std::shared_ptr<Kernels> cpu_;
  std::shared_ptr<Kernels> device_;
};

// Kernels on both devices, for a kernel call written once: f(kernels, pick) where pick(pair)
// gives the pair's tensor for that device.
template <class Call>
void on_both(Devices& devices, Call call) {
  call(devices.cpu(), [](const Pair& p) { return p.host; });
  call(devices.device(), [](const Pair& p) { return p.device; });
}

}  // namespace trellis::gpu_test
