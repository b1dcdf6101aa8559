#include "a2a_cost.h"

namespace trellis::a2a {

// Notation: B micro batch, T sequence, c context size, h hidden, a heads, t tensor size, e bytes
// a value. A rank holds T/c tokens of each sequence and its tensor shard of the channels.
//
// Forward: an all-to-all of q, k, v (each rank sends B x T/c x 3h/t values) turns the rank's
// tokens of every head into every token of a/(t c) heads; attention runs over whole sequences
// for those heads; an all-to-all of the output (B x T/c x h/t) turns it back. Backward mirrors
// it: the output's gradient out to the heads, the q, k, v gradients back. Nothing overlaps.
// Each rank does the scores of 1/c of the heads. The stash: the head-sharded q, k, v (3h/t
// values for each of T tokens over 1/c of the heads: 3h/t a token of the rank) and the heads'
// probabilities (B x a/(t c) x T x T: a T / t a token of the rank).
ContextCost describe_cost(const ContextCostQuery& q) {
  const double c = q.context;
  const double tokens = static_cast<double>(q.micro_batch * q.seq_len) / c;
  const double h = static_cast<double>(q.dims.hidden), t = q.tensor;
  const double e = q.activation_bytes;
  const double qkv = e * tokens * 3.0 * h / t, out = e * tokens * h / t;

  ContextCost cost;
  cost.forward.collectives = {{CollectiveKind::all_to_all, qkv, 1.0, false},
                              {CollectiveKind::all_to_all, out, 1.0, false}};
  cost.backward_input.collectives = {{CollectiveKind::all_to_all, out, 1.0, false},
                                     {CollectiveKind::all_to_all, qkv, 1.0, false}};
  cost.attention_share = 1.0 / c;
  const double probabilities = static_cast<double>(q.dims.heads * q.seq_len) / t;
  cost.attention_stash = 3.0 * h / t + probabilities;
  // Backward: the output gradient sent and received (h/t each) and in sequence order (h/t),
  // the q, k, v gradients of the heads (3h/t), sent back and received (3h/t each).
  cost.backward_workspace = 3.0 * h / t + 3.0 * 3.0 * h / t;
  return cost;
}

}  // namespace trellis::a2a
