#include "tp2d_cost.h"

#include <cmath>
#include <utility>

#include "transformer_cost.h"

namespace trellis::tp2d {

using layers::RegionHolding;

LayerCost describe_cost(const LayerCostQuery& q) {
  LayerCost c = layers::transformer_compute(q, RegionHolding::sharded, 0);
  const double b = static_cast<double>(q.micro_batch), s = static_cast<double>(q.seq_len);
  const double h = static_cast<double>(q.dims.hidden), t = q.tensor;
  const double e = q.activation_bytes;
  if (q.tensor > 1) {
    const double side = std::round(std::sqrt(t));
    c.grid_side = static_cast<int>(side);
    const double rows = b * s / side;  // the tokens of this grid row
    auto& fwd = c.block.forward.collectives;
    auto& input = c.block.backward_input.collectives;
    auto& weight = c.block.backward_weight.collectives;
    for (auto [in, out] : {std::pair{h, 3 * h}, {h, h}, {h, 4 * h}, {4 * h, h}}) {
      fwd.push_back({CollectiveKind::broadcast, TensorSubgroup::row, e * rows * in / side, side});
      fwd.push_back(
          {CollectiveKind::broadcast, TensorSubgroup::column, e * out * in / (side * side), side});
      fwd.push_back({CollectiveKind::all_gather, TensorSubgroup::column, e * out / side, 1});
    }
    fwd.push_back({CollectiveKind::all_reduce, TensorSubgroup::row, 4 * rows, 4});
    fwd.push_back({CollectiveKind::all_gather, TensorSubgroup::column, 4 * h / side, 4});
    for (auto [in, out] : {std::pair{h, 3 * h}, {h, h}, {h, 4 * h}, {4 * h, h}}) {
      const double x_block = e * rows * in / side, w_block = e * out * in / (side * side);
      input.push_back({CollectiveKind::broadcast, TensorSubgroup::column, w_block, side});
      input.push_back({CollectiveKind::reduce, TensorSubgroup::row, x_block, side});
      weight.push_back({CollectiveKind::broadcast, TensorSubgroup::row, x_block, side});
      weight.push_back(
          {CollectiveKind::reduce, TensorSubgroup::column, 4.0 * out * in / (side * side), side});
      weight.push_back(
          {CollectiveKind::reduce_scatter, TensorSubgroup::column, 4.0 * out / side, 1});
    }
    input.push_back({CollectiveKind::all_reduce, TensorSubgroup::row, 8 * rows, 2});
    weight.push_back({CollectiveKind::reduce_scatter, TensorSubgroup::column, 4 * h / side, 4});
  }
  layers::add_embedding_and_head_collectives(q, RegionHolding::sharded, c);
  c.pipeline_message_bytes = layers::hidden_state_bytes(q) / q.tensor;

  BlockStash& st = c.block_stash;
  st.after_forward = 16 * h / t + 4 / t;
  st.attention_probabilities = static_cast<double>(q.dims.heads * q.seq_len) / t;
  st.after_input = 16 * h / t;
  st.backward_workspace = 13 * h / t;
  st.chunk_input = h / t;
  st.gradient_in = h / t;
  c.head_stash = layers::head_stash(q, RegionHolding::sharded, false);

  // Weights in q x q blocks, vectors (biases, LayerNorms, positions) in 1/t pieces.
  ParameterCount& p = c.parameters;
  p.block = (12 * h * h + 13 * h) / t;
  p.token_table = static_cast<double>(q.dims.padded_vocab) * h / q.tensor;
  const double positions = static_cast<double>(q.dims.max_seq_len) * h;
  p.embedding = p.token_table + positions / q.tensor;
  p.head = 2.0 * h / q.tensor;
  c.activations_sharded = true;
  return c;
}

}  // namespace trellis::tp2d
