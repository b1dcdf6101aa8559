#include <cstdlib>
#include <new>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "trellis/error.h"
#include "trellis/tensor.h"

namespace trellis {

void* Allocator::allocate(std::size_t bytes) {
  if (bytes == 0) return nullptr;
  void* ptr = raw_allocate(bytes);
  std::size_t now = current_.fetch_add(bytes) + bytes;
  std::size_t peak = peak_.load();
  while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
  }
  return ptr;
}

void Allocator::deallocate(void* ptr, std::size_t bytes) noexcept {
  if (ptr == nullptr) return;
  raw_deallocate(ptr, bytes);
  current_.fetch_sub(bytes);
}

namespace {

// Host memory aligned for SIMD loads and cache lines, with an exact-size cache of freed blocks:
// the shapes of one training step repeat in the next, so after the first step every request is
// served from the cache.
class CpuAllocator final : public Allocator {
 public:
  CpuAllocator() : Allocator(Device::cpu()) {}
  ~CpuAllocator() override {
    for (auto& [bytes, blocks] : cache_)
      for (void* block : blocks) std::free(block);
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
  void* raw_allocate(std::size_t bytes) override {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = cache_.find(bytes);
    if (it != cache_.end() && !it->second.empty()) {
      void* block = it->second.back();
      it->second.pop_back();
      cached_bytes_ -= bytes;
      return block;
    }
    constexpr std::size_t kAlignment = 64;
    std::size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
    void* block = std::aligned_alloc(kAlignment, rounded);
    if (block == nullptr) {
      throw Error("out of host memory: could not allocate " + std::to_string(bytes) + " bytes (" +
                  std::to_string(current_bytes()) + " bytes held by tensors, " +
                  std::to_string(cached_bytes_) + " cached)");
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
      std::free(ptr);  // no memory to remember the block: give it back instead
    }
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::size_t, std::vector<void*>> cache_;
  std::size_t cached_bytes_ = 0;
  std::uint64_t device_allocations_ = 0;
};

}  // namespace

std::shared_ptr<Allocator> make_cpu_allocator() {
  return std::make_shared<CpuAllocator>();
}

}  // namespace trellis
