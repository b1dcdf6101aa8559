#include "ring_cost.h"

namespace trellis::ring {

// Notation: B micro batch, T sequence, c context size, h hidden, a heads, t tensor size, e bytes
// a value. A rank holds T/c tokens of each sequence and its tensor shard of the channels.
//
// Forward: c steps, each attending to one K/V block (B x T/c x 2h/t values) while the next
// arrives from the previous rank: c - 1 transfers, each hidden behind the step in hand.
// Backward: c steps again; the K/V blocks travel as in the forward (c - 1 transfers) and each
// block's dK/dV accumulator travels with it and once more, home to its owner (c transfers).
// The causal load balancing (chunks i and 2c-1-i) gives every rank 1/c of the scores.
// The stash: q and the rank's own K/V are cut again from the family's qkv in backward; the
// attention keeps a copy of its output (h/t values a token: the family may reuse its buffer) and
// the log-sum-exp of each row, a fp32 value per head and token, in place of the T x T
// probabilities.
ContextCost describe_cost(const ContextCostQuery& q) {
  const double c = q.context;
  const double tokens = static_cast<double>(q.micro_batch * q.seq_len) / c;
  const double h = static_cast<double>(q.dims.hidden), t = q.tensor;
  const double kv_block = q.activation_bytes * tokens * 2.0 * h / t;

  ContextCost cost;
  cost.forward.collectives = {{CollectiveKind::send_recv, kv_block, c - 1.0, true}};
  cost.backward_input.collectives = {{CollectiveKind::send_recv, kv_block, c - 1.0, true},
                                     {CollectiveKind::send_recv, kv_block, c, true}};
  cost.attention_share = 1.0 / c;
  const double heads = static_cast<double>(q.dims.heads) / t;
  cost.attention_stash = h / t + heads * 4.0 / q.activation_bytes;  // output, log-sum-exp
  // Backward: q and dq (h/t each), the K/V block in hand and the two arriving (2h/t each), the
  // two dK/dV partials and the one arriving (2h/t each).
  cost.backward_workspace = 2.0 * h / t + 3.0 * 2.0 * h / t + 3.0 * 2.0 * h / t;
  return cost;
}

}  // namespace trellis::ring
