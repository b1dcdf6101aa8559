#include "scratch_pool.h"

#include <new>
#include <utility>

namespace trellis::ucx {

namespace {

constexpr std::align_val_t kAlignment{64};
// Kept for reuse at most: enough for the buffers of a few large collectives in flight.
constexpr std::size_t kMaxFreeBytes = std::size_t{512} << 20;
constexpr std::size_t kMaxFreeBlocks = 32;

}  // namespace

ScratchBuffer::ScratchBuffer(ScratchBuffer&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)),
      data_(std::exchange(other.data_, nullptr)),
      capacity_(std::exchange(other.capacity_, 0)),
      size_(std::exchange(other.size_, 0)) {}

ScratchBuffer& ScratchBuffer::operator=(ScratchBuffer&& other) noexcept {
  if (this != &other) {
    release();
    pool_ = std::exchange(other.pool_, nullptr);
    data_ = std::exchange(other.data_, nullptr);
    capacity_ = std::exchange(other.capacity_, 0);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

ScratchBuffer::~ScratchBuffer() {
  release();
}

void ScratchBuffer::release() noexcept {
  if (data_ != nullptr) pool_->put(data_, capacity_);
  data_ = nullptr;
}

ScratchPool::~ScratchPool() {
  for (const Block& block : free_) ::operator delete[](block.data, kAlignment);
}

ScratchBuffer ScratchPool::get(std::size_t bytes) {
  if (bytes == 0) return {};
  // The smallest free block that holds `bytes` without wasting more than half of itself.
  std::size_t best = free_.size();
  for (std::size_t i = 0; i < free_.size(); ++i) {
    const std::size_t capacity = free_[i].capacity;
    if (capacity >= bytes && capacity / 2 <= bytes &&
        (best == free_.size() || capacity < free_[best].capacity)) {
      best = i;
    }
  }
  if (best != free_.size()) {
    Block block = free_[best];
    free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(best));
    free_bytes_ -= block.capacity;
    return ScratchBuffer(this, block.data, block.capacity, bytes);
  }
  auto* data = static_cast<std::byte*>(::operator new[](bytes, kAlignment));
  return ScratchBuffer(this, data, bytes, bytes);
}

void ScratchPool::put(std::byte* data, std::size_t capacity) noexcept {
  if (free_bytes_ + capacity > kMaxFreeBytes || free_.size() >= kMaxFreeBlocks) {
    ::operator delete[](data, kAlignment);
    return;
  }
  try {
    free_.push_back({data, capacity});
    free_bytes_ += capacity;
  } catch (...) {
    ::operator delete[](data, kAlignment);
  }
}

}  // namespace trellis::ucx
