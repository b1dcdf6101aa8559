// Device memory from cudaMalloc (or cudaMallocManaged), with the CPU allocator's exact-size cache.
#include <cuda_runtime.h>

#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "device/cuda_check.h"
#include "device/cuda_device.h"
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

class CudaAllocator final : public Allocator {
 public:
  CudaAllocator(int device, CudaMemory memory) : Allocator(Device::cuda(device)), memory_(memory) {
    cuda::check(cudaSetDevice(device), "cudaSetDevice", "the CUDA allocator");
  }
  ~CudaAllocator() override {
    // Blocks still in use by work on the device must finish before they go back.
    cudaSetDevice(device().index);
    cudaDeviceSynchronize();
    for (auto& [bytes, blocks] : cache_)
      for (void* block : blocks) cudaFree(block);
  }

  std::size_t reserved_bytes() const noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    return current_bytes() + cached_bytes_;
  }
  std::uint64_t device_allocations() const noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    return device_allocations_;
  }

 protected:
  // Blocks are reused in stream order: everything that uses them runs on the compute stream, and
  // communication keeps its tensors alive (the Work holds them) until it has completed.
  void* raw_allocate(std::size_t bytes) override {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = cache_.find(bytes);
    if (it != cache_.end() && !it->second.empty()) {
      void* block = it->second.back();
      it->second.pop_back();
      cached_bytes_ -= bytes;
      return block;
    }
    cuda::check(cudaSetDevice(device().index), "cudaSetDevice", "the CUDA allocator");
    void* block = nullptr;
    cudaError_t status = memory_ == CudaMemory::managed
                             ? cudaMallocManaged(&block, bytes, cudaMemAttachGlobal)
                             : cudaMalloc(&block, bytes);
    if (status != cudaSuccess) {
      cudaGetLastError();  // not sticky: cleared, so a later launch check does not see it
      throw Error("out of memory on " + device().str() + ": could not allocate " +
                  std::to_string(bytes) + " bytes (" + std::to_string(current_bytes()) +
                  " bytes held by tensors, " + std::to_string(cached_bytes_) + " cached): " +
                  cuda::describe(
                      status, memory_ == CudaMemory::managed ? "cudaMallocManaged" : "cudaMalloc"));
    }
    ++device_allocations_;
    return block;
  }
  void raw_deallocate(void* ptr, std::size_t bytes) noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    try {
      cache_[bytes].push_back(ptr);
      cached_bytes_ += bytes;
    } catch (...) {
      cudaFree(ptr);  // cudaFree waits for the device: nothing can still be using it after
    }
  }

 private:
  CudaMemory memory_;
  mutable std::mutex mutex_;
  std::unordered_map<std::size_t, std::vector<void*>> cache_;
  std::size_t cached_bytes_ = 0;
  std::uint64_t device_allocations_ = 0;
};

}  // namespace

std::shared_ptr<Allocator> make_cuda_allocator(int device) {
  return std::make_shared<CudaAllocator>(device, CudaMemory::device);
}

std::shared_ptr<Allocator> make_cuda_managed_allocator(int device) {
  return std::make_shared<CudaAllocator>(device, CudaMemory::managed);
}

}  // namespace trellis
