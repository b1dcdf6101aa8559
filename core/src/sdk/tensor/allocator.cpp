#include <cstdio>
#include <cstdlib>
#include <string>

#include "tensor/caching_allocator.h"

#include "trellis/error.h"
#include "trellis/tensor.h"

namespace trellis {

namespace {

std::string mib_text(std::size_t bytes) {
  char text[64];
  std::snprintf(text, sizeof text, "%.2f MiB", static_cast<double>(bytes) / (1 << 20));
  return text;
}

}  // namespace

void* Allocator::allocate(std::size_t bytes) {
  if (bytes == 0) return nullptr;
  const std::size_t limit = limit_.load();
  if (limit != 0 && current_.load() + bytes > limit) {
    throw MemoryLimitError("allocating " + mib_text(bytes) + " would take the tensors held to " +
                           mib_text(current_.load() + bytes) + ", past the memory limit of " +
                           mib_text(limit));
  }
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
class HostBlocks final : public BlockSource {
 public:
  void* take(std::size_t bytes, std::size_t held, std::size_t cached) override {
    constexpr std::size_t kAlignment = 64;
    std::size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
    void* block = std::aligned_alloc(kAlignment, rounded);
    if (block == nullptr) {
      throw Error("out of host memory: could not allocate " + std::to_string(bytes) + " bytes (" +
                  std::to_string(held) + " bytes held by tensors, " + std::to_string(cached) +
                  " cached)");
    }
    return block;
  }
  void give_back(void* block) noexcept override { std::free(block); }
};

}  // namespace

std::shared_ptr<Allocator> make_cpu_allocator() {
  return std::make_shared<CachingAllocator>(Device::cpu(), std::make_unique<HostBlocks>());
}

}  // namespace trellis
