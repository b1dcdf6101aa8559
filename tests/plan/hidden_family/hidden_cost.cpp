#include "hidden_cost.h"

namespace hidden_family {

using trellis::CollectiveKind;
using trellis::TensorSubgroup;

trellis::LayerCost describe_cost(const trellis::LayerCostQuery& q) {
  const double b = static_cast<double>(q.micro_batch), s = static_cast<double>(q.seq_len);
  const double h = static_cast<double>(q.dims.hidden), a = static_cast<double>(q.dims.heads);
  const double v = static_cast<double>(q.dims.padded_vocab), t = q.tensor;
  const double e = q.activation_bytes, tokens = b * s;
  const double states = e * tokens * h;  // one microbatch's hidden states

  trellis::LayerCost c;
  const double linear = 24 * tokens * h * h / t, attention = 4 * tokens * s * h / t;
  c.block.forward = {linear + attention, 24 * h * tokens * e, {}};
  c.block.backward_input = {linear + 2 * attention, 24 * h * tokens * e, {}};
  c.block.backward_weight = {linear, 8 * h * tokens * e, {}};
  c.attention_core = {attention, a * s / t * tokens * e, {}};
  if (q.tensor > 1) {
    c.block.forward.collectives = {{CollectiveKind::all_reduce, TensorSubgroup::whole, states, 2}};
    c.block.backward_input.collectives = c.block.forward.collectives;
    c.embedding.forward.collectives = {
        {CollectiveKind::all_reduce, TensorSubgroup::whole, states, 1}};
    c.head.backward_input.collectives = c.embedding.forward.collectives;
  }
  c.embedding.forward.bytes = 3 * h * tokens * e;
  c.embedding.backward_weight.bytes = 5 * h * tokens * e;
  const double logits = 2 * tokens * h * v / t;
  c.head.forward = {logits, (2 * h + 3 * v / t) * tokens * e, c.head.forward.collectives};
  c.head.backward_input.flops = logits;
  c.head.backward_input.bytes = (3 * h + 3 * v / t) * tokens * e;
  c.head.backward_weight.flops = logits;
  c.pipeline_message_bytes = states;

  // The residual stream, LayerNorm outputs and block output whole; QKV, attention output and
  // the MLP's activations split; the probabilities split by heads.
  c.block_stash = {4 * h + 12 * h / t, a * s / t, 4 * h + 12 * h / t, 4 * h + 8 * h / t, h, h};
  c.head_stash = {h + v / t, v / t + 2 * h, v / t, 2 * h};
  c.parameters.block = 12 * h * h / t + 13 * h;
  c.parameters.token_table = v * h / t;
  c.parameters.embedding = c.parameters.token_table + static_cast<double>(q.dims.max_seq_len) * h;
  c.parameters.head = 2 * h;
  c.activations_sharded = false;
  return c;
}

}  // namespace hidden_family
