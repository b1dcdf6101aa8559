// What ring attention costs (trellis/context_cost.h), for trellis-plan: K/V blocks passed around
// the context group while the block in hand is attended to.
#pragma once

#include "trellis/context_cost.h"

namespace trellis::ring {

ContextCost describe_cost(const ContextCostQuery& query);

}  // namespace trellis::ring
