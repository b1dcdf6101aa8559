// What context parallelism changes in a layer's cost: the planner's side of
// trellis/context_cost.h.
//
// Under context c a rank holds T/c tokens of each sequence. Every layer but attention works
// token by token, so the layer family's own cost asked for T/c tokens a sequence is that rank's
// (its matrix FLOPs, element-wise traffic, tensor collectives, stash, pipeline messages). Not
// attention's core (the scores and their weighted sum): asked for T/c tokens, the family counts
// each token attending to T/c keys, where under context parallelism it attends to every earlier
// key of the whole sequence. That part is swapped for the context plugin's share of the whole
// sequence's core (the family's cost asked for T tokens), and the attention probabilities the
// family keeps for the plugin's own stash. The plugin's collectives go over the context group;
// those that overlap attention cost only what outlasts the attention's compute
// (time_prediction.h).
#pragma once

#include "plan/layout_choice.h"
#include "trellis/context_cost.h"
#include "trellis/layer_cost.h"
#include "trellis/plugin_registry.h"

namespace trellis::plan {

// The backward of attention's core makes twice its forward's products (the gradients of the
// probabilities and of V, then of Q and K: four products against the forward's two) and streams
// what its forward streams (the score-sized softmax traffic). The family describes the core's
// forward only (LayerCost::attention_core), and its input gradient as the whole block's; this is
// how much of that input gradient is the core's.
inline constexpr double kAttentionBackwardProducts = 2.0;

// What the context plugin is asked: the model, the layout's tensor and context sizes and micro
// batch, the whole sequence length and the bytes of an activation value.
ContextCostQuery context_cost_query(const ModelDims& dims, const LayoutChoice& layout,
                                    double activation_bytes);

// The cost of `layout.context_mode`'s plugin. Throws InputError (PluginError) when the registry is
// missing, finds no such context plugin, or the plugin describes no cost.
ContextCost context_cost(const PluginRegistry* registry, const ModelDims& dims,
                         const LayoutChoice& layout, double activation_bytes);

// The cost of a block on one rank of the context group: `local` (the family's cost for T/c
// tokens a sequence) with its attention core replaced by `context`'s share of `whole`'s (the
// family's cost for whole sequences: only its attention core is read) in the forward and input
// gradient, and its attention probabilities by the context's stash.
LayerCost context_layer_cost(const LayerCost& local, const LayerCost& whole,
                             const ContextCost& context);

}  // namespace trellis::plan
