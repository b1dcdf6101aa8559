// The cost formulas every family of this tree shares (trellis/layer_cost.h): the matrix FLOPs of
// a GPT-2 block, embedding and head, and the element-wise traffic of Trellis's kernels, for a
// family that holds the LayerNorm and residual regions either whole on every tensor rank (1d) or
// as 1/t shards (seq, 2d). Each family adds what is its own: collectives, stash, parameters.
//
// Notation: b micro batch, s sequence, h hidden, a heads, V padded vocabulary, t tensor size,
// e bytes a value.
//
// Matrix FLOPs (Megatron's count, Narayanan et al. 2021 eq. 2), per block:
//   forward          24 b s h^2 / t  +  4 b s^2 h / t      (QKV, projection, MLP; scores and
//                                                            weighted sum)
//   input gradient   24 b s h^2 / t  +  8 b s^2 h / t      (dX of the linears; attention's four
//                                                            products)
//   weight gradient  24 b s h^2 / t                        (dW of the linears)
// LM head: 2 b s h V / t in each pass.
//
// Element-wise traffic, values a token (x e bytes): rep are the values a 1d rank streams whole
// (LayerNorm, residual adds), split those divided over the tensor group (GELU, biases of
// column-parallel linears), att the attention probabilities (a s / t a token, half of them under
// the causal mask):
//   forward          rep 10 h  (2 LayerNorms x 2, 2 residual adds x 3)   split 8 h   att 1.5
//   input gradient   rep 12 h  (2 LayerNorm backwards x 3, 2 adds x 3)   split 12 h  att 1.5
//   weight gradient  rep 2 h   (row-parallel bias gradients)             split 7 h   att 0
// A sharded family holds rep as shards (rep / t); seq adds its reorders (`reorder_split`).
#pragma once

#include "trellis/layer_cost.h"

namespace trellis::layers {

// How a family holds the LayerNorm and residual regions.
enum class RegionHolding : unsigned char { whole, sharded };

// Block, attention core, embedding and head: FLOPs and element-wise bytes, no collectives.
// `reorder_split`: extra split values a token each way of the block (seq's reorders).
LayerCost transformer_compute(const LayerCostQuery& query, RegionHolding holding,
                              double reorder_split);

// The embedding's and head's collectives over the whole tensor group (1d: all-reduces; sharded:
// reduce-scatter of the embedding output, the head's input all-gathered and its gradient
// reduce-scattered), and the softmax statistics' all-reduces. Nothing at tensor 1.
void add_embedding_and_head_collectives(const LayerCostQuery& query, RegionHolding holding,
                                        LayerCost& cost);

// The final norm's and head's stash: norm output (whole or sharded), its statistics, the head's
// input when gathered whole (`head_input_whole`), the logits (V / t) and the loss statistics.
HeadStash head_stash(const LayerCostQuery& query, RegionHolding holding, bool head_input_whole);

// e b s h: one microbatch's hidden states, in bytes.
double hidden_state_bytes(const LayerCostQuery& query);

}  // namespace trellis::layers
