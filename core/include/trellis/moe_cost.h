// What a mixture-of-experts block costs: the layers plugin's side of trellis-plan's MoE model.
//
// A layers plugin that runs experts (PluginDescriptor::runs_experts) may give its descriptor a
// `describe_moe_cost` function (ABI 2.5, trellis/plugin.h). trellis-plan calls it for every
// layout of a run with [model] experts > 0, with what trellis/layer_cost.h's describe_cost is
// asked plus the run's MoE settings (expert_parallel = the layout's expert size); the family
// answers with what ONE tensor rank does for ONE microbatch in ONE MoE block: attention as in its
// dense block, the router, and the MLPs of the rows its local experts receive — under balanced
// routing, each rank's experts receive what it sends, `routed_rows` a token. The dispatcher
// plugin's collectives (trellis/dispatch_cost.h) come on top; the planner adds them. A family
// that runs experts without `describe_moe_cost` trains, but trellis-plan cannot plan its MoE
// runs (it says so, exit 2) and --search leaves it out of them.
//
// Units as trellis/layer_cost.h's (FLOPs, bytes, collectives over the tensor group, stash in
// values a token of the microbatch).
#pragma once

#include "trellis/config.h"
#include "trellis/layer_cost.h"

namespace trellis {

struct MoeCostQuery {
  LayerCostQuery layer;  // as describe_cost is asked
  MoeSettings moe;       // experts, top_k, capacity; expert_parallel the layout's
};

struct MoeBlockCost {
  PieceCost block;   // the whole MoE block's passes, its tensor collectives included
  BlockStash stash;  // what it keeps, as BlockStash says for a dense block
  // Values a token its forward holds at once beyond `stash` (the rows before they are sent, the
  // experts' outputs before they are combined): the walk adds it while the block runs forward.
  double forward_workspace = 0.0;
  // The block's parameters on one tensor rank: all but its experts (attention, norms, router),
  // reduced over data x context as a dense block's; and its E / expert_parallel local experts,
  // reduced over the expert-data group (data / expert_parallel ranks).
  double parameters = 0.0;
  double expert_parameters = 0.0;
  // Rows a token sends to experts (k when dropless; the capacity's share under a capacity
  // factor below 1, balanced routing assumed), each `dims.hidden` values: what the dispatcher
  // moves.
  double routed_rows = 0.0;
};

}  // namespace trellis
