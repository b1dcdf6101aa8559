#include "replicated_cost.h"

namespace replicated {

// Every tensor rank makes the one-rank computation (the kernel calls of Trellis's 1d family at
// tensor 1), so the description does not depend on the tensor size: no share of the FLOPs, the
// stash or the parameters goes away as the group grows, and no collective is issued. trellis-plan
// then ranks a replicated layout by what it is, the data or pipeline layout with tensor ranks
// that add nothing.
trellis::LayerCost describe_replicated_cost(const trellis::LayerCostQuery& q) {
  const double b = static_cast<double>(q.micro_batch), s = static_cast<double>(q.seq_len);
  const double h = static_cast<double>(q.dims.hidden), a = static_cast<double>(q.dims.heads);
  const double v = static_cast<double>(q.dims.padded_vocab);
  const double e = q.activation_bytes, tokens = b * s;

  trellis::LayerCost c;
  // A block: QKV (3h^2), the projection (h^2) and the MLP (8h^2) are 12 h^2 multiply-adds a
  // token; attention's scores and weighted sum are 2 s h. Backward: the input gradient repeats
  // every product (attention's twice, through the softmax), the weight gradient the linears'.
  const double linear = 24 * tokens * h * h, attention = 4 * tokens * s * h;
  c.block.forward = {linear + attention, 24 * h * tokens * e, {}};
  c.block.backward_input = {linear + 2 * attention, 24 * h * tokens * e, {}};
  c.block.backward_weight = {linear, 8 * h * tokens * e, {}};
  c.attention_core = {attention, a * s * tokens * e, {}};
  c.embedding.forward.bytes = 3 * h * tokens * e;
  c.embedding.backward_weight.bytes = 5 * h * tokens * e;
  const double logits = 2 * tokens * h * v;
  c.head.forward = {logits, (2 * h + 3 * v) * tokens * e, {}};
  c.head.backward_input = {logits, (3 * h + 3 * v) * tokens * e, {}};
  c.head.backward_weight.flops = logits;
  c.pipeline_message_bytes = e * tokens * h;

  // Stashed a token: the residual stream, two LayerNorm outputs and statistics, QKV, the
  // attention output, the MLP's input and activation (16 h in all); the softmax's a x s; after
  // the input gradient, what the weight gradients read.
  c.block_stash = {16 * h, a * s, 16 * h, 12 * h, h, h};
  c.head_stash = {h + v, v + 2 * h, v, 2 * h};
  c.parameters.block = 12 * h * h + 13 * h;
  c.parameters.token_table = v * h;
  c.parameters.embedding = c.parameters.token_table + static_cast<double>(q.dims.max_seq_len) * h;
  c.parameters.head = 2 * h;
  c.activations_sharded = false;
  return c;
}

}  // namespace replicated
