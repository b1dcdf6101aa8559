// What one layer does for one microbatch on one tensor rank, per pass (forward, input gradient,
// weight gradient): matrix-product FLOPs, bytes streamed by element-wise kernels, and the
// collectives of its tensor-parallel group. The layer family describes its pieces
// (trellis/layer_cost.h, through plan/family_cost.h); this adds what the planner itself models
// on top, recomputation, and step_prediction.h turns work into time.
//
// Recomputation (model/recompute_plan.h) adds to the input-gradient pass of a recomputed block
// its whole forward, with the forward's collectives (full: every block under the uniform method,
// the first recompute_num_layers of each chunk under the block method), or attention's core as
// the family describes it (selective: every block). Under context parallelism a block's passes also
// carry the context plugin's collectives and the attention's own work they may overlap
// (plan/context_work.h); recomputing attention communicates again.
#pragma once

#include <vector>

#include "plan/collective_cost.h"
#include "plan/layout_choice.h"
#include "trellis/context_cost.h"
#include "trellis/dispatch_cost.h"
#include "trellis/layer_cost.h"

namespace trellis::plan {

using TensorGroupPart = TensorSubgroup;
using CommCall = CollectiveCall;

struct ActionWork {
  double flops = 0.0;  // matrix products
  double bytes = 0.0;  // element-wise traffic
  std::vector<CommCall> comm;
  // Context parallelism: the collectives over the context group, and the part of flops and
  // bytes that is attention's core (what the overlapping collectives hide behind).
  std::vector<ContextCollective> context_comm;
  double attention_flops = 0.0;
  double attention_bytes = 0.0;
  // Expert parallelism: the dispatcher's collectives over the expert group
  // (trellis/dispatch_cost.h).
  std::vector<CollectiveCall> expert_comm;

  ActionWork() = default;
  explicit ActionWork(const PassCost& pass);
  ActionWork& operator+=(const ActionWork& other);
};

// A layer's three passes for one microbatch. A whole backward (B) is input + weight.
struct PassWork {
  ActionWork forward;
  ActionWork backward_input;
  ActionWork backward_weight;

  PassWork() = default;
  explicit PassWork(const PieceCost& piece);
  PassWork& operator+=(const PassWork& other);
  PassWork scaled(double times) const;
};

// One block, with the recomputation `recompute` adds (full: for a block that is recomputed);
// `context` (null without context parallelism) adds its collectives, `cost` being the block's on
// a rank of the context group; `dispatch` (null but for an MoE block under expert parallelism)
// adds the dispatcher's collectives and copies to the forward and the input gradient.
PassWork block_work(const LayerCost& cost, Recompute recompute,
                    const ContextCost* context = nullptr, const DispatchCost* dispatch = nullptr);

// One block of a chunk: its cost (an MoE block's as plan/moe_work.h makes it) and its
// dispatcher's (MoE blocks under expert parallelism).
struct ChunkBlock {
  const LayerCost* cost = nullptr;
  const DispatchCost* dispatch = nullptr;
};
// The blocks of a chunk, bottom first: block_work of those full recomputation recomputes
// (recompute_groups) and of those it does not.
PassWork chunk_blocks_work(const std::vector<ChunkBlock>& blocks,
                           const RecomputeSettings& recompute,
                           const ContextCost* context = nullptr);
// A chunk of `blocks` blocks alike.
PassWork chunk_blocks_work(const LayerCost& cost, const RecomputeSettings& recompute, int blocks,
                           const ContextCost* context = nullptr);
// Token and position embedding.
PassWork embedding_work(const LayerCost& cost);
// Final LayerNorm, the LM head's logits and the cross-entropy.
PassWork head_work(const LayerCost& cost);

}  // namespace trellis::plan
