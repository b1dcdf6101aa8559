#include "allgather_cost.h"

#include "dispatch_layout.h"

namespace trellis::dispatch {

DispatchCost describe_allgather_cost(const DispatchCostQuery& q) {
  const double rows = q.rows * static_cast<double>(q.hidden) * q.value_bytes;
  const double group = rows * q.expert;  // the gathered (and scattered) buffer
  const std::vector<CollectiveCall> exchange = {
      {CollectiveKind::all_gather, TensorSubgroup::whole, group, 1},
      {CollectiveKind::reduce_scatter, TensorSubgroup::whole, group, 1}};
  DispatchCost c;
  c.forward.collectives = exchange;
  c.forward.collectives.insert(c.forward.collectives.begin(), exchange_counts_cost(q));
  c.backward_input.collectives = exchange;
  c.forward.bytes = c.backward_input.bytes = 2.0 * rows + 2.0 * rows + group + 4.0 * rows;
  c.workspace = 1.0 + q.expert;  // the padded rows and the gathered (or scattered) buffer
  return c;
}

}  // namespace trellis::dispatch
