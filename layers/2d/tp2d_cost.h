// What the 2d family costs one tensor rank for one microbatch (trellis/layer_cost.h).
#pragma once

#include "trellis/layer_cost.h"

namespace trellis::tp2d {

// SUMMA on the q x q grid (q^2 = t), per linear (in -> out), rows r = b s / q of this grid row:
//   forward          q row broadcasts of e r in / q (x blocks), q column broadcasts of
//                    e out in / q^2 (weight blocks), the bias gathered along the column
//   input gradient   q column broadcasts (weight blocks) and q row reductions (x gradients)
//   weight gradient  q row broadcasts (x blocks), q column reductions of the weight gradient
//                    blocks and a reduce-scatter of the bias gradient
// plus the LayerNorm statistics all-reduced along the row and its parameters gathered (forward)
// or reduce-scattered (weight gradient) along the column. Every activation and parameter is a
// 1/t block.
LayerCost describe_cost(const LayerCostQuery& query);

}  // namespace trellis::tp2d
