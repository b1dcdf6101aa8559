// What the replicated family costs one tensor rank for one microbatch, for trellis-plan
// (trellis/layer_cost.h).
#pragma once

#include "trellis/layer_cost.h"

namespace replicated {

trellis::LayerCost describe_replicated_cost(const trellis::LayerCostQuery& query);

}  // namespace replicated
