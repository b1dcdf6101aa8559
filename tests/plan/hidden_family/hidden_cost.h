// The "hidden" family's cost, as its author describes it (trellis/layer_cost.h): Megatron's
// tensor parallelism (its layers are 1d's), counted the way an author without Trellis's kernel
// counts would: the paper's matrix FLOPs, a round 24 h values a token of element-wise traffic
// each pass, two all-reduces of the hidden states forward and two backward.
#pragma once

#include "trellis/layer_cost.h"

namespace hidden_family {

trellis::LayerCost describe_cost(const trellis::LayerCostQuery& query);

}  // namespace hidden_family
