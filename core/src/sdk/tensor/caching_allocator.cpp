#include "tensor/caching_allocator.h"

namespace trellis {

CachingAllocator::CachingAllocator(Device device, std::unique_ptr<BlockSource> source)
    : Allocator(device), source_(std::move(source)) {}

CachingAllocator::~CachingAllocator() {
  source_->before_release();
  for (auto& [bytes, blocks] : cache_)
    for (void* block : blocks) source_->give_back(block);
}

std::size_t CachingAllocator::reserved_bytes() const noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  return current_bytes() + cached_bytes_;
}

std::uint64_t CachingAllocator::device_allocations() const noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  return device_allocations_;
}

void* CachingAllocator::raw_allocate(std::size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = cache_.find(bytes);
  if (it != cache_.end() && !it->second.empty()) {
    void* block = it->second.back();
    it->second.pop_back();
    cached_bytes_ -= bytes;
    return block;
  }
  void* block = source_->take(bytes, current_bytes(), cached_bytes_);
  ++device_allocations_;
  return block;
}

void CachingAllocator::raw_deallocate(void* ptr, std::size_t bytes) noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  try {
    cache_[bytes].push_back(ptr);
    cached_bytes_ += bytes;
  } catch (...) {
    source_->give_back(ptr);  // no memory to remember the block: give it back instead
  }
}

}  // namespace trellis
