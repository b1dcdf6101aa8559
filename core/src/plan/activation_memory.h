// Activation memory of one transformer layer, and of one pipeline chunk, per microbatch.
//
// The published formulas (Korthikanti et al. 2022, "Reducing Activation Recomputation in Large
// Transformer Models", section 4), bytes per layer with 16-bit activations and 1-byte dropout
// masks, s sequence, b micro batch, h hidden, a heads, t tensor size:
//   no parallelism                     s b h (34 + 5 a s / h)
//   tensor parallel (1d)               s b h (10 + 24 / t + 5 a s / (h t))
//   tensor + sequence parallel (seq)   s b h / t (34 + 5 a s / h)
//   selective recompute                the 5 a s / h terms go: s b h (10 + 24/t), 34 s b h / t
//   full recompute                     the layer's input only: 2 s b h (1d), 2 s b h / t (seq)
// A family says which form is its own (LayerCost::activations_sharded): 2d, which the paper
// does not have, keeps every activation as a 1/t shard and takes seq's.
//
// What Trellis keeps is the family's to say (trellis/layer_cost.h's BlockStash and HeadStash,
// e.g. layers/1d/tp1d_cost.h); this adds the recomputation trellis-train runs
// (model/recompute_plan.h) to it, as its tensors live:
//   selective  blocks keep no attention probabilities (or context stash); a block's input
//              gradient rebuilds them, and they live to its end (the scratch copy of the
//              attention's output the rebuild writes is freed before the block's last two
//              h-sized buffers are made, so it adds nothing to the peak)
//   full       a recomputed group's forward stashes nothing and the chunk keeps the group's
//              input (the chunk input for the first group, the previous group's output for the
//              others); a group's output is held by whatever follows it in the chunk (the next
//              group, a kept block, the final norm), not at a chunk's end; a group's backward
//              rebuilds its blocks' whole stashes at once, then frees them block by block
//              (whole backward) or shrinks them to what waits for the weight gradient (split).
// A whole backward frees the final norm's and head's stash before the blocks' backward starts.
#pragma once

#include <cstdint>
#include <vector>

#include "model/recompute_plan.h"
#include "plan/layout_choice.h"
#include "trellis/layer_cost.h"

namespace trellis::plan {

enum class ActivationModel : unsigned char { trellis, korthikanti };
const char* activation_model_name(ActivationModel m) noexcept;  // "trellis", "korthikanti"

// The sizes a layer's activations depend on.
struct ActivationShape {
  std::int64_t micro_batch = 1;  // b
  std::int64_t seq_len = 1;      // s
  std::int64_t hidden = 1;       // h
  std::int64_t heads = 1;        // a
  int tensor = 1;                // t
  RecomputeSettings recompute;   // by default none
  double activation_bytes = 4;   // e
};

// Korthikanti et al.'s bytes per layer (16-bit activations), in their form for a family whose
// activations are all 1/t shards (`sharded`, LayerCost::activations_sharded) or not.
double published_layer_activation_bytes(const ActivationShape& shape, bool sharded);
// The family's stash per layer after the forward, under the shape's recompute (full: the
// value a recomputed block keeps, its group's input, as if each block were a group).
double trellis_layer_activation_bytes(const LayerCost& cost, const ActivationShape& shape);

// Activation bytes of one (stage, microbatch) of a chunk, at the moments that matter for the
// peak: after its forward, after its input gradient (split backward: what waits for W), and the
// highest point during its forward (F), a whole backward (B) and an input-gradient pass (I),
// each including what the chunk holds then.
struct ChunkActivations {
  double per_layer = 0.0;  // one layer after its forward
  double after_forward = 0.0;
  double peak_in_forward = 0.0;
  // The forward's output when nothing of the chunk holds it (full recomputation, the chunk
  // ending in a recomputed group): the send to the next stage holds it through the rank's next
  // action.
  double sent_output = 0.0;
  double after_input = 0.0;
  double peak_in_backward = 0.0;
  double peak_in_input = 0.0;
};

ChunkActivations chunk_activations(const LayerCost& cost, const ActivationShape& shape, int blocks,
                                   bool has_head, ActivationModel model);
// One block of a chunk as the walk sees it: what it keeps, and what its forward holds at once
// beyond that while it runs (an MoE block's routing buffers, trellis/moe_cost.h; 0 for a dense
// block), in values a token.
struct BlockMemory {
  BlockStash stash;
  double forward_workspace = 0.0;
};
// The same for a chunk whose blocks differ (dense and MoE blocks): `blocks`, bottom first
// (cost.block_stash stands for every block in the form above). The korthikanti model knows
// dense blocks only and reads the count.
ChunkActivations chunk_activations(const LayerCost& cost, const ActivationShape& shape,
                                   const std::vector<BlockMemory>& blocks, bool has_head,
                                   ActivationModel model);

}  // namespace trellis::plan
