#include "tp1d_cost.h"

#include "moe_cost.h"
#include "transformer_cost.h"

namespace trellis::tp1d {

using layers::RegionHolding;

LayerCost describe_cost(const LayerCostQuery& q) {
  LayerCost c = layers::transformer_compute(q, RegionHolding::whole, 0);
  const double S = layers::hidden_state_bytes(q);
  if (q.tensor > 1) {
    c.block.forward.collectives = {{CollectiveKind::all_reduce, TensorSubgroup::whole, S, 2}};
    c.block.backward_input.collectives = {
        {CollectiveKind::all_reduce, TensorSubgroup::whole, S, 2}};
  }
  layers::add_embedding_and_head_collectives(q, RegionHolding::whole, c);
  c.pipeline_message_bytes = S;

  const double h = static_cast<double>(q.dims.hidden), t = q.tensor;
  const layers::BlockWidths w = layers::block_widths(q);
  BlockStash& s = c.block_stash;
  s.after_forward = 4 * h + w.split / t + 4;
  s.attention_probabilities = static_cast<double>(q.dims.heads * q.seq_len) / t;
  s.after_input = 4 * h + w.split / t;
  // d_fc, d_att, d_qkv split; d_ln2, d_res2, d_ln1, d_x whole.
  s.backward_workspace = 4 * h + w.workspace / t;
  s.chunk_input = h;
  s.gradient_in = h;
  c.head_stash = layers::head_stash(q, RegionHolding::whole, false);

  // QKV, projection and MLP weights and the column-parallel biases split; norms and the
  // row-parallel biases whole. The token table's rows split, the positions whole.
  ParameterCount& p = c.parameters;
  p.block = w.block_parameters(t);
  p.token_table = static_cast<double>(q.dims.padded_vocab) * h / q.tensor;
  p.embedding = layers::embedding_parameters(q);
  p.head = layers::head_parameters(q);  // the final norm, and an untied head's weight
  c.activations_sharded = false;
  return c;
}

MoeBlockCost describe_moe_cost(const MoeCostQuery& q) {
  return layers::moe_block_cost(q, describe_cost(q.layer), RegionHolding::whole);
}

}  // namespace trellis::tp1d
