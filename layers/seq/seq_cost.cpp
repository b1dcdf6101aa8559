#include "seq_cost.h"

#include "moe_cost.h"
#include "transformer_cost.h"

namespace trellis::seqpar {

using layers::RegionHolding;

namespace {

constexpr double kReorderValues = 8;  // values a token each way, region <-> sequence order

}  // namespace

LayerCost describe_cost(const LayerCostQuery& q) {
  LayerCost c = layers::transformer_compute(q, RegionHolding::sharded, kReorderValues);
  const double S = layers::hidden_state_bytes(q);
  const double h = static_cast<double>(q.dims.hidden), t = q.tensor;
  const layers::BlockWidths w = layers::block_widths(q);
  if (q.tensor > 1) {
    const std::vector<CollectiveCall> regions = {
        {CollectiveKind::all_gather, TensorSubgroup::whole, S, 2},
        {CollectiveKind::reduce_scatter, TensorSubgroup::whole, S, 2}};
    c.block.forward.collectives = regions;
    c.block.backward_input.collectives = regions;
    c.block.backward_weight.collectives = {
        {CollectiveKind::all_gather, TensorSubgroup::whole, S, 2},
        {CollectiveKind::all_reduce, TensorSubgroup::whole, 4.0 * 2.0 * w.norm, 1}};
  }
  layers::add_embedding_and_head_collectives(q, RegionHolding::sharded, c);
  c.pipeline_message_bytes = S / q.tensor;

  // States between regions are sequence shards; the QKV, attention and MLP tensors are whole
  // sequences of this rank's channels (as in 1d). Backward keeps the gathered output gradients
  // (d_out, d_res2) whole for the weight gradient.
  BlockStash& s = c.block_stash;
  s.after_forward = (4 * h + w.split + 4) / t;
  s.attention_probabilities = static_cast<double>(q.dims.heads * q.seq_len) / t;
  s.after_input = 2 * h + (w.split + 3 * h) / t;
  s.backward_workspace = 4 * h + (w.workspace + 5 * h) / t;
  s.chunk_input = h / t;
  s.gradient_in = h / t;
  c.head_stash = layers::head_stash(q, RegionHolding::sharded, true);  // the head's input whole

  // As 1d: the sequence shards change where activations live, not how parameters are cut.
  ParameterCount& p = c.parameters;
  p.block = w.block_parameters(t);
  p.token_table = static_cast<double>(q.dims.padded_vocab) * h / q.tensor;
  p.embedding = layers::embedding_parameters(q);
  p.head = layers::head_parameters(q);
  c.activations_sharded = true;
  return c;
}

MoeBlockCost describe_moe_cost(const MoeCostQuery& q) {
  return layers::moe_block_cost(q, describe_cost(q.layer), RegionHolding::sharded);
}

}  // namespace trellis::seqpar
