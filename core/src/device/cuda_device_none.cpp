// Built without CUDA: the CUDA device's factories say so.
#ifndef TRELLIS_HAVE_CUDA
#include "device/cuda_device.h"
#include "device/cuda_probe.h"
#include "trellis/error.h"

namespace trellis {

std::shared_ptr<Allocator> make_cuda_allocator(int) {
  throw Error(probe_cuda().problem);
}

std::shared_ptr<Allocator> make_cuda_managed_allocator(int) {
  throw Error(probe_cuda().problem);
}

void wait_for_cuda_compute(int) {
  throw Error(probe_cuda().problem);
}

}  // namespace trellis
#endif
