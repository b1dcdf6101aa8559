// What a context-parallel attention costs: the description trellis-plan predicts a context mode
// from (plugin kind "context", trellis/context_attention.h).
//
// A context plugin may give its descriptor a `describe_context_cost` function (ABI 2.1,
// trellis/plugin.h). trellis-plan calls it for every layout with context > 1 it predicts, with
// the model and the layout's tensor and context sizes and microbatch; the plugin answers with
// what ONE rank's attention does differently from attention over whole sequences, for ONE
// microbatch of ONE block: the collectives each pass issues over the context group (their bytes
// and count, and whether they run while attention computes), the share of the whole sequence's
// attention work the rank does, and what its attention keeps for backward. The layer family's
// own cost (trellis/layer_cost.h), asked for the rank's T/c tokens a sequence, gives the rest of
// the block. A context plugin without `describe_context_cost` trains, but trellis-plan cannot
// plan it (it says so, exit 2) and --search leaves it out.
//
// Units as trellis/layer_cost.h's: bytes as collectives count them (CollectiveKind's comment;
// an all-to-all's bytes are the buffer each rank sends, its whole input), stash sizes in VALUES a
// token of the rank (x the rank's tokens x the bytes of an activation value = bytes).
#pragma once

#include <cstdint>
#include <vector>

#include "trellis/config.h"
#include "trellis/layer_cost.h"

namespace trellis {

struct ContextCostQuery {
  ModelDims dims;                 // padded_vocab as the layout pads it
  int tensor = 1;                 // ranks of the tensor group
  int context = 1;                // c, ranks of the context group (> 1)
  std::int64_t micro_batch = 1;   // sequences a microbatch (B)
  std::int64_t seq_len = 1;       // T, tokens of a whole sequence (a rank holds T / c of them)
  double activation_bytes = 4.0;  // bytes of one activation value
};

// A collective over the whole context group, in one pass of one block's attention.
struct ContextCollective {
  CollectiveKind op = CollectiveKind::send_recv;
  double bytes = 0.0;  // per call, on each rank
  double count = 1.0;  // how many such calls the pass makes
  // true: it runs while the rank computes attention (a ring's transfer of the next block while
  // the block in hand is attended to), so only what outlasts the attention's compute adds to the
  // pass; false: attention waits for it.
  bool overlaps_attention = false;
};

struct ContextPassCost {
  std::vector<ContextCollective> collectives;
};

struct ContextCost {
  ContextPassCost forward;
  ContextPassCost backward_input;  // the attention has no weights: nothing in the weight gradient
  // The share of the whole sequence's attention work (the scores' FLOPs and their element-wise
  // traffic, LayerCost::attention_core) one rank does: 1/c when the work is balanced.
  double attention_share = 1.0;
  // Values a token of the rank that the attention keeps for backward beyond the q, k, v and the
  // output the family keeps anyway; replaces the family's BlockStash::attention_probabilities
  // (and, like them, is what selective recomputation drops).
  double attention_stash = 0.0;
  // Values a token of the rank that the attention's backward holds at once in buffers of its own
  // (blocks in transit, their gradients, gathered or re-sharded copies), beyond the family's
  // backward buffers; added to the block's BlockStash::backward_workspace.
  double backward_workspace = 0.0;
};

}  // namespace trellis
