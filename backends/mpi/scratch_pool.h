// Receive buffers for the recursive-doubling all_reduce, reused.
//
// Each small all_reduce in flight needs a buffer for the partner's half of every round. Blocks
// come back to the pool when the operation completes, so a steady stream of small all_reduces
// allocates nothing after the first few.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace trellis::mpi {

class ScratchPool {
 public:
  explicit ScratchPool(std::size_t block_bytes) : block_bytes_(block_bytes) {}

  std::size_t block_bytes() const noexcept { return block_bytes_; }
  // A block of block_bytes() bytes (16-byte aligned: enough for f32 and i32).
  std::unique_ptr<std::byte[]> take();
  void give(std::unique_ptr<std::byte[]> block) noexcept;

 private:
  std::size_t block_bytes_;
  std::vector<std::unique_ptr<std::byte[]>> free_;
};

}  // namespace trellis::mpi
