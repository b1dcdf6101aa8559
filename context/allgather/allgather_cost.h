// What all-gather context attention costs (trellis/context_cost.h), for trellis-plan: every
// rank gathers the whole sequence's K/V, then attends to it.
#pragma once

#include "trellis/context_cost.h"

namespace trellis::allgather {

ContextCost describe_cost(const ContextCostQuery& query);

}  // namespace trellis::allgather
