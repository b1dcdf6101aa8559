// CachingAllocator: an Allocator that keeps the blocks tensors free, by exact size, and serves
// later requests of that size from them. A training step allocates the same shapes as the step
// before, so after the first step nothing new is taken from the system (device_allocations()
// stops growing), while current_bytes/peak_bytes still count live tensors only. Where blocks
// come from is a BlockSource: host memory (make_cpu_allocator), cudaMalloc (the CUDA device).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "trellis/tensor.h"

namespace trellis {

class BlockSource {
 public:
  virtual ~BlockSource() = default;
  // A new block of `bytes`; throws trellis::Error (out of memory) saying how many bytes tensors
  // hold (`held`) and the cache keeps (`cached`).
  virtual void* take(std::size_t bytes, std::size_t held, std::size_t cached) = 0;
  virtual void give_back(void* block) noexcept = 0;
  // Called once before the cached blocks are given back when the allocator goes.
  virtual void before_release() noexcept {}
};

class CachingAllocator final : public Allocator {
 public:
  CachingAllocator(Device device, std::unique_ptr<BlockSource> source);
  ~CachingAllocator() override;

  std::size_t reserved_bytes() const noexcept override;
  std::uint64_t device_allocations() const noexcept override;

 protected:
  void* raw_allocate(std::size_t bytes) override;
  void raw_deallocate(void* ptr, std::size_t bytes) noexcept override;

 private:
  std::unique_ptr<BlockSource> source_;
  mutable std::mutex mutex_;
  std::unordered_map<std::size_t, std::vector<void*>> cache_;
  std::size_t cached_bytes_ = 0;
  std::uint64_t device_allocations_ = 0;
};

}  // namespace trellis
