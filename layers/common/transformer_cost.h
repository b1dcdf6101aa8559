// The cost formulas every family of this tree shares (trellis/layer_cost.h): the matrix FLOPs of
// a block (GPT-2's or another ModelArchitecture's), embedding and head, and the element-wise
// traffic of Trellis's kernels, for a family that holds the LayerNorm and residual regions either
// whole on every tensor rank (1d) or as 1/t shards (seq, 2d). Each family adds what is its own:
// collectives, stash, parameters.
//
// Notation: b micro batch, s sequence, h hidden, a heads, V padded vocabulary, t tensor size,
// e bytes a value.
//
// Matrix FLOPs (Megatron's count, Narayanan et al. 2021 eq. 2), per block, for GPT-2 (another
// architecture replaces 24 h^2 by 2 x BlockWidths::macs):
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

// The widths of a block's linear layers a token, whole (before the tensor split), from the
// query's architecture: GPT-2's when it has none. For GPT-2, macs = 12 h^2 and split = 12 h.
struct BlockWidths {
  double qkv;        // queries, keys and values out of the QKV product: h + 2 kv_heads hs
  double fc;         // the fc product's outputs: F, or 2F for SwiGLU (gate and up)
  double ffn;        // F, the activation's outputs
  double macs;       // multiply-adds a token of the four linear layers
  double split;      // the split tensors a block keeps a token: qkv (3h after the key/value
                     // heads are copied to their query heads), attention output, fc, activation
  double workspace;  // the split gradients backward works in: d_fc, d_att, d_qkv
  double block_parameters(double tensor) const;    // weights and column-parallel biases split,
                                                   // norms and row-parallel biases whole
  double norm = 0, row_bias = 0, column_bias = 0;  // parameters a block of each kind, whole
};
BlockWidths block_widths(const LayerCostQuery& query);

// The embedding's parameters on a rank (token rows split, learned positions whole) and the
// head's (the final norm, and the head's own weight, split, when not tied).
double embedding_parameters(const LayerCostQuery& query);
double head_parameters(const LayerCostQuery& query);

// e b s h: one microbatch's hidden states, in bytes.
double hidden_state_bytes(const LayerCostQuery& query);

}  // namespace trellis::layers
