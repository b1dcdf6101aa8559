#include "allgather_cost.h"

namespace trellis::allgather {

// Notation: B micro batch, T sequence, c context size, h hidden, a heads, t tensor size, e bytes
// a value. A rank holds T/c tokens of each sequence and its tensor shard of the channels.
//
// Forward: one all-gather of K/V, output c x B x T/c x 2h/t values, before attention can start.
// Backward: the K/V gradients of the whole sequence reduce-scattered back to their owners (input
// of the same size). Neither overlaps the attention. The causal load balancing gives every rank
// 1/c of the scores. The stash: the gathered K/V of the whole sequence (kept for backward, so it
// is not gathered again: 2h/t values for each of the sequence's T tokens, c x 2h/t a token of
// the rank), a copy of the output (h/t values a token) and each row's log-sum-exp (a fp32 value
// per head and token); q and the rank's own K/V are cut again from the family's qkv.
ContextCost describe_cost(const ContextCostQuery& q) {
  const double c = q.context;
  const double whole = static_cast<double>(q.micro_batch * q.seq_len);
  const double h = static_cast<double>(q.dims.hidden), t = q.tensor;
  const double gathered_kv = q.activation_bytes * whole * 2.0 * h / t;

  ContextCost cost;
  cost.forward.collectives = {{CollectiveKind::all_gather, gathered_kv, 1.0, false}};
  cost.backward_input.collectives = {{CollectiveKind::reduce_scatter, gathered_kv, 1.0, false}};
  cost.attention_share = 1.0 / c;
  const double heads = static_cast<double>(q.dims.heads) / t;
  cost.attention_stash = c * 2.0 * h / t + h / t + heads * 4.0 / q.activation_bytes;
  // Backward: q and dq (h/t each), the dK/dV of every block (c x 2h/t) and the own block's
  // after the reduce-scatter (2h/t).
  cost.backward_workspace = 2.0 * h / t + (c + 1.0) * 2.0 * h / t;
  return cost;
}

}  // namespace trellis::allgather
