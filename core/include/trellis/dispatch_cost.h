// What a token dispatcher costs: the description trellis-plan predicts expert parallelism from
// (plugin kind "dispatcher", trellis/token_dispatcher.h).
//
// A dispatcher plugin may give its descriptor a `describe_dispatch_cost` function (ABI 2.5,
// trellis/plugin.h). trellis-plan calls it for every layout with expert > 1 it predicts, for ONE
// MoE block and ONE microbatch on ONE rank: the collectives its exchange of counts, dispatch and
// combine issue over the expert group in the forward (dispatch of the rows, combine of the
// experts' outputs) and in the input gradient (the same again, for the gradients), and the bytes
// its own copies stream. Routing is taken as balanced: every rank sends `rows` rows and its
// experts receive as many. A dispatcher without `describe_dispatch_cost` trains, but
// trellis-plan cannot plan a run that uses it (it says so, exit 2).
//
// Units as trellis/layer_cost.h's: bytes as collectives count them (CollectiveKind's comment);
// the collectives' `group` is not read — they all run over the expert group.
#pragma once

#include <cstdint>

#include "trellis/layer_cost.h"

namespace trellis {

struct DispatchCostQuery {
  int expert = 1;            // ep, ranks of the expert group (> 1)
  std::int64_t experts = 1;  // E, of the whole block
  std::int64_t hidden = 1;   // values a row
  double rows = 0.0;         // rows one rank sends for one microbatch of one block
  double value_bytes = 4.0;  // bytes of one value of a row
};

struct DispatchCost {
  PassCost forward;         // counts, dispatch and combine (flops 0)
  PassCost backward_input;  // dispatch and combine of the gradients
  // Values a row sent that dispatch or combine holds at once in buffers of its own, beyond its
  // input and output (a regrouping copy, a gathered or padded buffer): added to the MoE block's
  // forward and backward workspace.
  double workspace = 0.0;
};

}  // namespace trellis
