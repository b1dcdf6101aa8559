// All-gather attention (the scheme of Llama 3's context parallelism): every rank all-gathers the
// keys-values of the context group, then merges its queries' attention over each rank's block
// (attention_block_forward's online softmax). Backward adds its queries' gradient to every block
// of keys-values, and a reduce-scatter (sum) returns each block's gradient to its owner.
//
// Memory, the mode's known cost: the gathered keys-values of every sequence, [c, B, Tl, 2C], kept
// from forward to backward (with out and lse); backward as much again for their gradients. The
// communication is one collective each way and does not overlap the compute.
#pragma once

#include "context_group.h"

namespace trellis::context {

class AllGatherAttention final : public ContextAttention {
 public:
  explicit AllGatherAttention(const ContextInit& init) : group_(init, "allgather") {}

  std::unique_ptr<ContextAttentionStash> forward(const Tensor& qkv, int heads, const Tensor& out,
                                                 bool keep) override;
  void backward(const Tensor& dout, const Tensor& qkv, int heads, ContextAttentionStash& stash,
                const Tensor& dqkv) override;

 private:
  ContextGroup group_;
};

}  // namespace trellis::context
