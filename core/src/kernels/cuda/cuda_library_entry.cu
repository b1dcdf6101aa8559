// The one symbol libtrellis_cuda exports: its table (device/cuda_library.h). Everything else of
// the library is hidden, so nothing in it can stand in for, or be stood in for by, the engine's
// own symbols.
#include "device/cuda_library.h"

extern "C" __attribute__((visibility("default"))) const trellis::CudaLibrary*
trellis_cuda_library() {
  using namespace trellis;
  static const CudaLibrary table{CudaLibrary::current_version,
                                 &cuda::probe,
                                 &cuda::self_test,
                                 &cuda::make_allocator,
                                 &cuda::make_managed_allocator,
                                 &cuda::wait_for_compute,
                                 &cuda::make_kernels};
  return &table;
}
