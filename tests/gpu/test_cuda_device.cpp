// The CUDA device works end to end: a kernel runs and its result comes back.
// Skipped (exit 77) with the reason where this build or this machine has no GPU.
//
// test_cuda_device --need N: exit 77 when fewer than N GPUs are present, else run the self test.
// The nccl conformance tests start with it: NCCL needs one GPU per rank.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "device/cuda_probe.h"

int main(int argc, char** argv) {
  int need = 1;
  if (argc == 3 && std::strcmp(argv[1], "--need") == 0) need = std::atoi(argv[2]);
  trellis::CudaProbe probe = trellis::probe_cuda();
  if (probe.device_count == 0) {
    std::printf("SKIPPED: no GPU: %s\n", probe.problem.c_str());
    return 77;
  }
  if (probe.device_count < need) {
    std::printf("SKIPPED: needs %d GPUs (one per rank), this machine has %d\n", need,
                probe.device_count);
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
