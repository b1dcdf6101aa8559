// libtrellis_cuda is loaded on demand (device/cuda_library.h): a process that links the engine
// maps neither it nor cuBLAS nor the CUDA runtime until it asks for CUDA, and then finds it.
#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "device/cuda_device.h"
#include "device/cuda_probe.h"
#include "kernels/cuda_kernels.h"
#include "trellis/error.h"

namespace {

// Whether a file whose name contains `name` is mapped into this process.
bool mapped(const std::string& name) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find(name) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("a process maps no CUDA library until it asks for CUDA") {
  // Nothing of this program has asked yet.
  CHECK_FALSE(mapped("libcublas"));
  CHECK_FALSE(mapped("libcudart"));
  CHECK_FALSE(mapped("libtrellis_cuda"));

  const trellis::CudaProbe probe = trellis::probe_cuda();
  INFO("probe: " << probe.problem);
#ifdef TRELLIS_HAVE_CUDA
  // Built with CUDA: the probe loaded the library beside libtrellis_sdk and ran it, GPU or not.
  CHECK(probe.built_with_cuda);
  CHECK(mapped("libtrellis_cuda"));
  CHECK(mapped("libcublas"));
  if (probe.device_count == 0) {
    CHECK(probe.problem.find("this Trellis was built") == std::string::npos);
    CHECK_THROWS_AS(trellis::make_cuda_kernels(0), trellis::Error);
  }
#else
  CHECK_FALSE(probe.built_with_cuda);
  CHECK(probe.problem.find("built without CUDA") != std::string::npos);
  CHECK_FALSE(mapped("libtrellis_cuda"));
  CHECK_THROWS_WITH_AS(trellis::make_cuda_allocator(0), doctest::Contains("built without CUDA"),
                       trellis::Error);
#endif
}
