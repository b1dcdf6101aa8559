// CUDA device discovery and a self test, compiled when the toolkit is found.
#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "device/cuda_library.h"

namespace trellis {

namespace {

std::string describe(cudaError_t status, const char* call) {
  return std::string(call) + " failed: " + cudaGetErrorName(status) + " (" +
         cudaGetErrorString(status) + ")";
}

__global__ void write_pattern(int* out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = 3 * i + 1;
}

}  // namespace

CudaProbe cuda::probe() {
  CudaProbe probe;
  probe.built_with_cuda = true;
  int count = 0;
  cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    probe.problem =
        describe(status, "cudaGetDeviceCount") + ": no usable GPU or NVIDIA driver on this machine";
    return probe;
  }
  probe.device_count = count;
  if (count == 0) probe.problem = "the NVIDIA driver reports no GPU";
  return probe;
}

std::string cuda::self_test(int device) {
  constexpr int n = 1 << 16;
  cudaError_t status = cudaSetDevice(device);
  if (status != cudaSuccess) return describe(status, "cudaSetDevice");
  int* buffer = nullptr;
  status = cudaMalloc(&buffer, n * sizeof(int));
  if (status != cudaSuccess) return describe(status, "cudaMalloc");
  write_pattern<<<(n + 255) / 256, 256>>>(buffer, n);
  std::string problem;
  status = cudaGetLastError();
  if (status != cudaSuccess) problem = describe(status, "kernel launch");
  std::vector<int> host(n);
  if (problem.empty()) {
    status = cudaMemcpy(host.data(), buffer, n * sizeof(int), cudaMemcpyDeviceToHost);
    if (status != cudaSuccess) problem = describe(status, "cudaMemcpy");
  }
  cudaFree(buffer);
  for (int i = 0; problem.empty() && i < n; ++i) {
    if (host[i] != 3 * i + 1) problem = "kernel wrote wrong values at element " + std::to_string(i);
  }
  return problem;
}

}  // namespace trellis
