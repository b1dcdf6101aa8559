// All-to-all attention (DeepSpeed-Ulysses, Jacobs et al., 2023): the context group trades its
// sequence shards for head shards. Each rank sends head group j of its tokens' queries, keys and
// values to rank j and receives every rank's tokens of its own head group, which it puts in
// sequence order and runs through the ordinary causal attention (attention_forward), NH/c heads
// over whole sequences; a second all-to-all returns each token's output to the rank that holds
// it. Backward mirrors it with attention_backward. Per head this is the single-rank computation.
//
// Needs the rank's heads to be a multiple of c (the descriptor's check refuses other runs).
// Memory: the stash holds the whole sequences of the rank's head group, [B, T, 3C/c] (as much as
// its own qkv), and attention_forward's probabilities [B, NH/c, T, T].
#pragma once

#include "context_group.h"

namespace trellis::context {

class AllToAllAttention final : public ContextAttention {
 public:
  explicit AllToAllAttention(const ContextInit& init) : group_(init, "a2a") {}

  std::unique_ptr<ContextAttentionStash> forward(const Tensor& qkv, int heads, const Tensor& out,
                                                 bool keep) override;
  void backward(const Tensor& dout, const Tensor& qkv, int heads, ContextAttentionStash& stash,
                const Tensor& dqkv) override;

 private:
  // heads / c; throws Error when c does not divide the rank's heads.
  int heads_per_rank(int heads) const;
  // out = the all-to-all of `in` over the context group, [c, ...] each, traced as `what`.
  void exchange(const Tensor& in, const Tensor& out, const char* what) const;

  ContextGroup group_;
};

}  // namespace trellis::context
