// A growable scratch block of device memory, for kernels' temporaries (reduction partials, the
// bf16 copies of gemm operands, attention's score gradients). Used on the compute stream only, and
// allocated and freed in its order (cudaMallocAsync / cudaFreeAsync): growing never waits for the
// device.
#pragma once

#include <cstddef>

namespace trellis::cuda {

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  ~DeviceBuffer();
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  // At least `bytes` of device memory, kept until a larger request.
  void* get(std::size_t bytes, const char* what);
  template <class T>
  T* get(std::size_t count, const char* what) {
    return static_cast<T*>(get(count * sizeof(T), what));
  }

 private:
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
};

}  // namespace trellis::cuda
