#include <cstdlib>
#include <new>
#include <string>

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

// Host memory aligned for SIMD loads and cache lines.
class CpuAllocator final : public Allocator {
 public:
  CpuAllocator() : Allocator(Device::cpu()) {}

 protected:
  void* raw_allocate(std::size_t bytes) override {
    constexpr std::size_t kAlignment = 64;
    std::size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
    void* ptr = std::aligned_alloc(kAlignment, rounded);
    if (ptr == nullptr) {
      throw Error("out of host memory: could not allocate " + std::to_string(bytes) + " bytes (" +
                  std::to_string(current_bytes()) + " bytes already held by this allocator)");
    }
    return ptr;
  }
  void raw_deallocate(void* ptr, std::size_t) noexcept override { std::free(ptr); }
};

}  // namespace

std::shared_ptr<Allocator> make_cpu_allocator() {
  return std::make_shared<CpuAllocator>();
}

}  // namespace trellis
