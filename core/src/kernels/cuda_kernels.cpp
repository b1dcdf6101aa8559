// The CUDA Kernels' factory (cuda_kernels.h), forwarded to libtrellis_cuda, loaded on the first
// call (device/cuda_library.h).
#include "kernels/cuda_kernels.h"

#include "device/cuda_library.h"
#include "trellis/error.h"

namespace trellis {

std::shared_ptr<Kernels> make_cuda_kernels(int device, CudaPrecision precision) {
  std::string problem;
  const CudaLibrary* library = cuda_library(problem);
  if (library == nullptr) throw Error(problem);
  return library->make_kernels(device, precision == CudaPrecision::bf16);
}

}  // namespace trellis
