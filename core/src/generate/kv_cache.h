// The keys and values of every position a decoder has seen, per block, so that each new token
// attends over them without running the earlier tokens again. Layer l's cache is one
// [max_positions, 2 x kv_heads x head_size] tensor: row t holds token t's keys (rotary positions
// applied) and then its values. With as many key/value heads as query heads it is the layout the
// block-attention kernel reads (Kernels::attention_block_forward's kv), so a prefix of it is a
// contiguous view passed as it is; with grouped-query attention it keeps only the kv_heads heads
// (a fraction of the memory), which the decoder repeats for the kernel.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "generate/decoder_architecture.h"
#include "trellis/tensor.h"

namespace trellis {

class KvCache {
 public:
  // Allocates room for arch.max_positions tokens in every block.
  KvCache(const DecoderArchitecture& arch, const std::shared_ptr<Allocator>& allocator);

  // Positions filled so far (the next token's position).
  std::int64_t length() const noexcept { return length_; }
  std::int64_t capacity() const noexcept { return capacity_; }

  // Block `layer`'s rows [begin, begin + count): where new tokens' keys and values go.
  Tensor rows(int layer, std::int64_t begin, std::int64_t count) const;

  // Marks `count` more positions filled (after every block wrote their rows).
  void advance(std::int64_t count);
  // Forgets every position (the tensors are reused).
  void clear() noexcept { length_ = 0; }

 private:
  std::vector<Tensor> layers_;  // [capacity, 2 x kv width] each
  std::int64_t capacity_ = 0;
  std::int64_t length_ = 0;
};

}  // namespace trellis
