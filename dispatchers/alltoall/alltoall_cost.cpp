#include "alltoall_cost.h"

#include "dispatch_layout.h"

namespace trellis::dispatch {

DispatchCost describe_alltoall_cost(const DispatchCostQuery& q) {
  const double rows = q.rows * static_cast<double>(q.hidden) * q.value_bytes;
  const CollectiveCall exchange{CollectiveKind::all_to_all, TensorSubgroup::whole, rows, 2};
  DispatchCost c;
  c.forward.collectives = {exchange_counts_cost(q), exchange};
  c.backward_input.collectives = {exchange};
  c.forward.bytes = c.backward_input.bytes = 2.0 * 2.0 * rows;
  c.workspace = 1.0;  // the rows as received, by source, before the regrouping
  return c;
}

}  // namespace trellis::dispatch
