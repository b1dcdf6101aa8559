#include "scratch_pool.h"

namespace trellis::mpi {

std::unique_ptr<std::byte[]> ScratchPool::take() {
  if (free_.empty()) return std::make_unique_for_overwrite<std::byte[]>(block_bytes_);
  std::unique_ptr<std::byte[]> block = std::move(free_.back());
  free_.pop_back();
  return block;
}

void ScratchPool::give(std::unique_ptr<std::byte[]> block) noexcept {
  try {
    free_.push_back(std::move(block));
  } catch (...) {
    // Out of memory growing the free list: the block is simply released.
  }
}

SizedBlock GrowingScratch::take(std::size_t bytes) {
  if (kept_.data && kept_.bytes >= bytes) return std::move(kept_);
  return {std::make_unique_for_overwrite<std::byte[]>(bytes), bytes};
}

void GrowingScratch::give(SizedBlock block) noexcept {
  if (!kept_.data || block.bytes > kept_.bytes) kept_ = std::move(block);
}

}  // namespace trellis::mpi
