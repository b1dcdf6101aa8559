// What the seq family costs one tensor rank for one microbatch (trellis/layer_cost.h).
#pragma once

#include "trellis/layer_cost.h"
#include "trellis/moe_cost.h"

namespace trellis::seqpar {

// 1d's products with the LayerNorm and residual regions on sequence shards: each all-reduce of 1d
// becomes an all-gather (entering a tensor-parallel region) and a reduce-scatter (leaving it);
// the weight gradient gathers the LayerNorm outputs again and all-reduces the LayerNorm
// parameters' gradients (4 h values). The block adds its reorders between region and sequence
// order (8 h / t values a token each way). Pipeline messages are sequence shards.
LayerCost describe_cost(const LayerCostQuery& query);
// An MoE block: describe_cost's block with layers/common/moe_cost.h's MLP.
MoeBlockCost describe_moe_cost(const MoeCostQuery& query);

}  // namespace trellis::seqpar
