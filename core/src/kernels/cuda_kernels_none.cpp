// Built without CUDA: the CUDA kernels' factory says so.
#ifndef TRELLIS_HAVE_CUDA
#include "device/cuda_probe.h"
#include "kernels/cuda_kernels.h"
#include "trellis/error.h"

namespace trellis {

std::shared_ptr<Kernels> make_cuda_kernels(int, CudaPrecision) {
  throw Error(probe_cuda().problem);
}

}  // namespace trellis
#endif
