// Attention's core (scores, softmax, weighted sum) for one microbatch of a block, as every family
// in this tree runs it: over whole sequences with the kernels, keeping the softmax probabilities
// for backward, or, under context parallelism, across the context group by the run's context
// plugin (trellis/context_attention.h), keeping what the plugin keeps.
#pragma once

#include <memory>

#include "trellis/context_attention.h"
#include "trellis/kernels.h"

namespace trellis::layers {

// What the core keeps from its forward for its backward: one of the two.
struct AttentionStash {
  Tensor probs;                                    // [B, heads, T, T]: whole sequences
  std::unique_ptr<ContextAttentionStash> context;  // the context plugin's
};

// att[B, T, C] from qkv[B, T, 3C] in sequence order, heads of C/heads channels; `context` null
// for whole sequences. The stash is empty of the plugin's part when not `training`.
AttentionStash attention_core_forward(Kernels& kernels, ContextAttention* context,
                                      const std::shared_ptr<Allocator>& allocator,
                                      const Tensor& qkv, int heads, const Tensor& att,
                                      bool training);
// d_qkv[B, T, 3C] (overwritten) from d_att[B, T, C], with the forward's qkv and stash.
void attention_core_backward(Kernels& kernels, ContextAttention* context, const Tensor& d_att,
                             const Tensor& qkv, int heads, AttentionStash& stash,
                             const Tensor& d_qkv);

}  // namespace trellis::layers
