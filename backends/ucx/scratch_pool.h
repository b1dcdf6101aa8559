// ScratchPool: reusable temporary buffers for the algorithms (receive slots, partial sums).
//
// A training step issues the same collectives with the same sizes over and over; taking fresh
// memory for each would cost a page fault per 4 KiB on first touch, which for mid-sized
// messages is a good part of the operation's time. Released buffers are kept (up to a cap) and
// handed out again for requests they can hold.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace trellis::ucx {

class ScratchPool;

// A buffer of at least size() bytes, 64-byte aligned, returned to its pool when dropped.
class ScratchBuffer {
 public:
  ScratchBuffer() = default;
  ScratchBuffer(ScratchBuffer&& other) noexcept;
  ScratchBuffer& operator=(ScratchBuffer&& other) noexcept;
  ~ScratchBuffer();

  std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }

 private:
  friend class ScratchPool;
  ScratchBuffer(ScratchPool* pool, std::byte* data, std::size_t capacity, std::size_t size)
      : pool_(pool), data_(data), capacity_(capacity), size_(size) {}
  void release() noexcept;

  ScratchPool* pool_ = nullptr;
  std::byte* data_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t size_ = 0;
};

class ScratchPool {
 public:
  ScratchPool() = default;
  ~ScratchPool();
  ScratchPool(const ScratchPool&) = delete;
  ScratchPool& operator=(const ScratchPool&) = delete;

  ScratchBuffer get(std::size_t bytes);

 private:
  friend class ScratchBuffer;
  void put(std::byte* data, std::size_t capacity) noexcept;

  struct Block {
    std::byte* data;
    std::size_t capacity;
  };
  std::vector<Block> free_;
  std::size_t free_bytes_ = 0;
};

}  // namespace trellis::ucx
