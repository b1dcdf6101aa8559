// Waiting for the compute stream of one GPU (cuda_device.h).
#include <cuda_runtime.h>

#include "device/cuda_check.h"
#include "device/cuda_library.h"

namespace trellis {

void cuda::wait_for_compute(int device) {
  cuda::check(cudaSetDevice(device), "cudaSetDevice", "waiting for the GPU's compute");
  // The legacy default stream is the compute stream of every CUDA kernel (cuda_device.h).
  cuda::check(cudaStreamSynchronize(cudaStreamLegacy), "cudaStreamSynchronize",
              "waiting for the GPU's compute");
}

}  // namespace trellis
