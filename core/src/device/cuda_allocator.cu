// Device memory from cudaMalloc (or cudaMallocManaged), cached like host memory
// (tensor/caching_allocator.h); and the CUDA return-code checks of core's .cu files.
#include <cuda_runtime.h>

#include <string>

#include "device/cuda_check.h"
#include "device/cuda_library.h"
#include "tensor/caching_allocator.h"
#include "trellis/error.h"

namespace trellis {

namespace cuda {

std::string describe(cudaError_t status, const char* call) {
  return std::string(call) + " failed: " + cudaGetErrorName(status) + " (" +
         cudaGetErrorString(status) + ")";
}

void check(cudaError_t status, const char* call, const char* what) {
  if (status != cudaSuccess) throw Error(describe(status, call) + " in " + what);
}

void check(cublasStatus_t status, const char* call, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    throw Error(std::string(call) + " failed: " + cublasGetStatusName(status) + " (" +
                cublasGetStatusString(status) + ") in " + what);
  }
}

void check_launch(const char* kernel) {
  check(cudaGetLastError(), "kernel launch", kernel);
}

}  // namespace cuda

namespace {

enum class CudaMemory : std::uint8_t { device, managed };

// Blocks from cudaMalloc (or cudaMallocManaged) on one device. Cached blocks are reused in stream
// order: everything that uses them runs on the compute stream, and communication keeps its
// tensors alive (the Work holds them) until it has completed.
class CudaBlocks final : public BlockSource {
 public:
  CudaBlocks(int device, CudaMemory memory) : device_(device), memory_(memory) {
    cuda::check(cudaSetDevice(device), "cudaSetDevice", "the CUDA allocator");
  }

  void* take(std::size_t bytes, std::size_t held, std::size_t cached) override {
    cuda::check(cudaSetDevice(device_), "cudaSetDevice", "the CUDA allocator");
    void* block = nullptr;
    const bool managed = memory_ == CudaMemory::managed;
    const cudaError_t status =
        managed ? cudaMallocManaged(&block, bytes, cudaMemAttachGlobal) : cudaMalloc(&block, bytes);
    if (status != cudaSuccess) {
      cudaGetLastError();  // not sticky: cleared, so a later launch check does not see it
      throw Error("out of memory on " + Device::cuda(device_).str() + ": could not allocate " +
                  std::to_string(bytes) + " bytes (" + std::to_string(held) +
                  " bytes held by tensors, " + std::to_string(cached) + " cached): " +
                  cuda::describe(status, managed ? "cudaMallocManaged" : "cudaMalloc"));
    }
    return block;
  }
  // cudaFree waits for the device: nothing can still be using the block after it.
  void give_back(void* block) noexcept override { cudaFree(block); }
  void before_release() noexcept override {
    cudaSetDevice(device_);
    cudaDeviceSynchronize();
  }

 private:
  int device_;
  CudaMemory memory_;
};

}  // namespace

std::shared_ptr<Allocator> cuda::make_allocator(int device) {
  return std::make_shared<CachingAllocator>(
      Device::cuda(device), std::make_unique<CudaBlocks>(device, CudaMemory::device));
}

std::shared_ptr<Allocator> cuda::make_managed_allocator(int device) {
  return std::make_shared<CachingAllocator>(
      Device::cuda(device), std::make_unique<CudaBlocks>(device, CudaMemory::managed));
}

}  // namespace trellis
