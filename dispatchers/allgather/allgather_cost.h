// What all-gather dispatch costs (trellis/dispatch_cost.h).
#pragma once

#include "trellis/dispatch_cost.h"

namespace trellis::dispatch {

// Forward: the counts' all-gather; dispatch all-gathers every rank's rows (padded to the most
// any rank sends: `rows` under balanced routing), so the gathered buffer is ep x rows; combine
// reduce-scatters a buffer of that size (zeros where other ranks' experts' rows go). The input
// gradient the same two for the gradients. Copies: the rows into the padded send buffer and this
// rank's experts' rows out of the gathered one; combine zeroes the ep x rows buffer, places the
// outputs and copies its own part out. Workspace: the padded rows and the ep x rows buffer.
DispatchCost describe_allgather_cost(const DispatchCostQuery& query);

}  // namespace trellis::dispatch
