// Scratch buffers of the backend's own algorithms, reused.
//
// Each small all_reduce or reduce in flight needs a buffer for the partner's half of every round
// (a reduce's non-root rank with children a second one for its partial results), each ring
// a block of receive slots (ScratchPool: blocks of one size), and a ring reduce on a rank other
// than the root a chunk of partial results (GrowingScratch: as large as the operation's chunk).
// Blocks come back when the operation completes, so a steady stream of operations allocates
// nothing after the first few: a large block freshly allocated costs a page fault per page the
// first time it is written, more than moving the data through it.
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

// A block and its size in bytes.
struct SizedBlock {
  std::unique_ptr<std::byte[]> data;
  std::size_t bytes = 0;
};

// Keeps the largest block given back: an operation of the size the last ones had (the usual
// case: the same tensors every step) takes it again.
class GrowingScratch {
 public:
  // A block of at least `bytes` bytes (16-byte aligned).
  SizedBlock take(std::size_t bytes);
  void give(SizedBlock block) noexcept;

 private:
  SizedBlock kept_;
};

}  // namespace trellis::mpi
