// The CUDA device works end to end: a kernel runs and its result comes back.
// Skipped (exit 77) with the reason where this build or this machine has no GPU.
#include <cstdio>

#include "device/cuda_probe.h"

int main() {
  trellis::CudaProbe probe = trellis::probe_cuda();
  if (probe.device_count == 0) {
    std::printf("SKIPPED: no GPU: %s\n", probe.problem.c_str());
    return 77;
  }
  int failures = 0;
  for (int device = 0; device < probe.device_count; ++device) {
    std::string problem = trellis::cuda_self_test(device);
    std::printf("cuda:%d %s\n", device, problem.empty() ? "ok" : problem.c_str());
    failures += problem.empty() ? 0 : 1;
  }
  return failures == 0 ? 0 : 1;
}
