// What the 1d family costs one tensor rank for one microbatch (trellis/layer_cost.h).
#pragma once

#include "trellis/layer_cost.h"
#include "trellis/moe_cost.h"

namespace trellis::tp1d {

// Collectives: 2 all-reduces of the hidden states (e b s h) in the forward (after the attention
// projection and the MLP) and 2 in the input gradient (before QKV and the first MLP linear).
// Stash (values a token): LayerNorm outputs, residual and block output 4 h whole; QKV 3 h / t,
// attention output h / t, MLP input and GELU output 8 h / t; the probabilities a s / t; the
// LayerNorm statistics 4 (layers/common/block.cpp).
LayerCost describe_cost(const LayerCostQuery& query);
// An MoE block: describe_cost's block with layers/common/moe_cost.h's MLP.
MoeBlockCost describe_moe_cost(const MoeCostQuery& query);

}  // namespace trellis::tp1d
