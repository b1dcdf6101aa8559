// What CUDA this process can use: built with it or not, and how many devices the driver offers.
// Every CUDA runtime return code is checked and turned into words, so `[device] kind = "cuda"` on
// a machine without a GPU or driver fails with a clear message instead of a crash later.
#pragma once

#include <string>

namespace trellis {

struct CudaProbe {
  bool built_with_cuda = false;
  int device_count = 0;
  std::string problem;  // why device_count is 0, for the user
};

CudaProbe probe_cuda();

// Runs a kernel on `device` that writes a known pattern and reads it back. Returns an empty string
// when the device works, else what failed.
std::string cuda_self_test(int device);

}  // namespace trellis
