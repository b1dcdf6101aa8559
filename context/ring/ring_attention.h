// Ring attention (Liu et al., "Ring Attention with Blockwise Transformers", 2023) over the
// load-balanced chunks of trellis/context_attention.h.
//
// Forward: c steps. At step s a rank holds the keys-values of context rank (rank - s) mod c and
// merges its queries' attention over them (attention_block_forward's online softmax), while the
// block it holds goes on to rank + 1 and the next arrives from rank - 1 (two receive buffers, so
// the block computed on is never the one being written). Backward: the same walk; each rank adds
// its queries' share to the gradient of the keys-values in hand, and that gradient travels one
// hop behind its block, so after c hops every rank's dkv is back at its owner. Every transfer is
// posted before the compute it overlaps and waited after it.
//
// Memory: the stash holds out and lse (the queries and keys-values are cut again from the qkv
// backward receives); in flight, two blocks of keys-values and, backward, three of gradients.
#pragma once

#include "context_group.h"

namespace trellis::context {

class RingAttention final : public ContextAttention {
 public:
  explicit RingAttention(const ContextInit& init);

  std::unique_ptr<ContextAttentionStash> forward(const Tensor& qkv, int heads, const Tensor& out,
                                                 bool keep) override;
  void backward(const Tensor& dout, const Tensor& qkv, int heads, ContextAttentionStash& stash,
                const Tensor& dqkv) override;

 private:
  // Tags of the transfers of step s, fixed per direction and step: forward keys-values, backward
  // keys-values, backward gradients.
  int forward_kv_tag(int step) const { return step; }
  int backward_kv_tag(int step) const { return group_.size() + step; }
  int backward_dkv_tag(int step) const { return 2 * group_.size() + step; }

  ContextGroup group_;
};

}  // namespace trellis::context
