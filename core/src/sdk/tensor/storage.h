// Storage: one block of device memory shared by the Tensor handles that view it.
#pragma once

#include <memory>

#include "trellis/tensor.h"

namespace trellis {

class Storage {
 public:
  // Owns `bytes` from `allocator`.
  Storage(std::shared_ptr<Allocator> allocator, std::size_t bytes)
      : allocator_(std::move(allocator)),
        data_(allocator_->allocate(bytes)),
        bytes_(bytes),
        device_(allocator_->device()) {}
  // Borrows memory owned by someone else.
  Storage(void* data, std::size_t bytes, Device device)
      : data_(data), bytes_(bytes), device_(device) {}
  ~Storage() {
    if (allocator_) allocator_->deallocate(data_, bytes_);
  }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const noexcept { return data_; }
  std::size_t bytes() const noexcept { return bytes_; }
  Device device() const noexcept { return device_; }

 private:
  std::shared_ptr<Allocator> allocator_;  // null for borrowed memory
  void* data_;
  std::size_t bytes_;
  Device device_;
};

}  // namespace trellis
