// Attention's core (scores, softmax, weighted sum) for one microbatch of a block, as every family
// in this tree runs it: over whole sequences with the kernels, keeping the softmax probabilities
// for backward, or, under context parallelism, across the context group by the run's context
// plugin (trellis/context_attention.h), keeping what the plugin keeps.
//
// Under selective recomputation ([train] recompute = "selective") the forward keeps nothing, and
// the backward first runs the same forward again from the block's Q, K and V — the same kernels
// (and, with context parallelism, the same transfers) on the same values, so the gradients are
// bit-identical to a run that kept the stash.
#pragma once

#include <memory>
#include <string_view>

#include "trellis/context_attention.h"
#include "trellis/kernels.h"
#include "trellis/layer.h"

namespace trellis::layers {

// What the core keeps from its forward for its backward: one of the two, or neither when its
// forward ran under selective recomputation.
struct AttentionStash {
  Tensor probs;                                    // [B, heads, T, T]: whole sequences
  std::unique_ptr<ContextAttentionStash> context;  // the context plugin's
};

// Selective recomputation as the family was made with it (LayerFamilyInit::recompute_attention
// and recompute_trace).
struct AttentionRecompute {
  bool enabled = false;
  RecomputeTrace* trace = nullptr;  // null: the run has no trace
};
AttentionRecompute attention_recompute(const LayerFamilyInit& init);

// What a block's attention core runs with.
struct AttentionCoreSetup {
  Kernels* kernels = nullptr;
  ContextAttention* context = nullptr;  // null for whole sequences
  std::shared_ptr<Allocator> allocator;
  AttentionRecompute recompute;
};

// att[B, T, C] from qkv[B, T, 3C] in sequence order, heads of C/heads channels. The stash is
// empty when not `training` or under selective recomputation.
AttentionStash attention_core_forward(const AttentionCoreSetup& core, const Tensor& qkv, int heads,
                                      const Tensor& att, bool training);
// d_qkv[B, T, 3C] (overwritten) from d_att[B, T, C], with the forward's qkv and stash; under
// selective recomputation it first rebuilds the stash (a "recompute" slice named
// "<layer> attention" on the trace).
void attention_core_backward(const AttentionCoreSetup& core, const Tensor& d_att, const Tensor& qkv,
                             int heads, AttentionStash& stash, const Tensor& d_qkv,
                             std::string_view layer, int microbatch);

}  // namespace trellis::layers
