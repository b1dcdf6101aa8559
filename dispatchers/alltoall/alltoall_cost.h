// What all-to-all dispatch costs (trellis/dispatch_cost.h).
#pragma once

#include "trellis/dispatch_cost.h"

namespace trellis::dispatch {

// Forward: the counts' all-gather, then one all_to_all_v of the rows (each rank's whole input,
// its own part staying local) and one of the experts' outputs; the input gradient the same two
// for the gradients. Copies: dispatch reorders the received rows from (source, expert) to
// (expert, source) and combine back, each reading and writing the rows once; that copy is its
// workspace (one row a row).
DispatchCost describe_alltoall_cost(const DispatchCostQuery& query);

}  // namespace trellis::dispatch
