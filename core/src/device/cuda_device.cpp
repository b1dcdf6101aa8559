// The CUDA device's functions (cuda_device.h, cuda_probe.h), forwarded to libtrellis_cuda,
// loaded on the first call (cuda_library.h).
#include "device/cuda_device.h"

#include "device/cuda_library.h"
#include "device/cuda_probe.h"

namespace trellis {

CudaProbe probe_cuda() {
  std::string problem;
  const CudaLibrary* library = cuda_library(problem);
  if (library == nullptr) return {false, 0, problem};
  return library->probe();
}

std::string cuda_self_test(int device) {
  std::string problem;
  const CudaLibrary* library = cuda_library(problem);
  return library == nullptr ? problem : library->self_test(device);
}

std::shared_ptr<Allocator> make_cuda_allocator(int device) {
  return loaded_cuda_library().make_allocator(device);
}

std::shared_ptr<Allocator> make_cuda_managed_allocator(int device) {
  return loaded_cuda_library().make_managed_allocator(device);
}

void wait_for_cuda_compute(int device) {
  loaded_cuda_library().wait_for_compute(device);
}

}  // namespace trellis
