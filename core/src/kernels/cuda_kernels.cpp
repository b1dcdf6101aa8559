// The CUDA Kernels' factory (cuda_kernels.h), forwarded to libtrellis_cuda, loaded on the first
// call (device/cuda_library.h).
#include "kernels/cuda_kernels.h"

#include "device/cuda_library.h"

namespace trellis {

std::shared_ptr<Kernels> make_cuda_kernels(int device, CudaPrecision precision) {
  return loaded_cuda_library().make_kernels(device, precision == CudaPrecision::bf16);
}

}  // namespace trellis
