// Built without CUDA: nothing to probe.
#ifndef TRELLIS_HAVE_CUDA
#include "device/cuda_probe.h"

namespace trellis {

CudaProbe probe_cuda() {
  return {false, 0,
          "this Trellis was built without CUDA (configure found no CUDA toolkit; "
          "see TRELLIS_CUDA in the README)"};
}

std::string cuda_self_test(int) {
  return probe_cuda().problem;
}

}  // namespace trellis
#endif
