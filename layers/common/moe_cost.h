// What an MoE block costs in the families of this tree that run experts (1d, seq;
// trellis/moe_cost.h): the family's dense block with its MLP swapped for layers/common/moe_mlp's
// router and experts. Balanced routing: each tensor rank's local experts receive R rows a token
// (R = top_k dropless; top_k x min(1, capacity_factor) under a capacity), whatever the expert
// size, so the experts' work, stash and parameters below hold for every layout.
//
// Per token, h hidden, t tensor size, E experts, k top_k:
//   matrix FLOPs   each pass: the dense MLP's 16 h^2 / t times R, plus the router's 2 h E
//                  (replicated on the tensor group)
//   element-wise   the MLP's GELU traffic times R; the rows copied out and the gate-weighted sum
//                  (5 R h forward), the output gradients and the scatter back (6 R h input
//                  gradient), the softmax over experts
//   collectives    the dense block's, and in the input gradient the gates' gradient summed over
//                  the tensor group (k fp32 values a token)
//   stash          no dense MLP (-8 h / t); each routed row keeps its input and output (2 h) and
//                  its fc and GELU shards (8 h / t); the router's logits' gradient waits for the
//                  weight gradient (E); a sharded family also keeps the gathered LN2 output (h)
//   workspace      backward: the dense MLP's d(fc) shard gone (-4 h / t); under expert
//                  parallelism the gradients sent and the input gradients received back are
//                  copies of their own (2 R h). Forward: the router's logits (E), and under
//                  expert parallelism the rows sent and the experts' outputs before combine
//                  (2 R h)
//   parameters     the dense block's but its MLP (8 h^2 / t + 4 h / t + h), a router (E h); the
//                  local experts, E / ep MLPs
#pragma once

#include "transformer_cost.h"
#include "trellis/moe_cost.h"

namespace trellis::layers {

// `dense`: the family's describe_cost for query.layer.
MoeBlockCost moe_block_cost(const MoeCostQuery& query, const LayerCost& dense,
                            RegionHolding holding);

}  // namespace trellis::layers
