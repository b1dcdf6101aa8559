// A layout's layer family as the planner sees it: the cost its layers plugin describes
// (trellis/layer_cost.h), asked through the plugin registry. The planner knows no family by
// name; whatever the registry finds and describes its cost can be predicted and searched.
#pragma once

#include "plan/layout_choice.h"
#include "trellis/config.h"
#include "trellis/layer_cost.h"
#include "trellis/plugin_registry.h"

namespace trellis::plan {

// What the family is asked: the model and its architecture, the layout's tensor size and micro
// batch, the run's sequence length and bytes per activation value.
LayerCostQuery family_cost_query(const ModelDims& dims, const ModelArchitecture& arch,
                                 const LayoutChoice& layout, double activation_bytes);

// The cost of `layout.tensor_mode`'s family. Throws InputError (PluginError) when the registry is
// missing, finds no such layers plugin (listing those it has), or the plugin describes no cost.
LayerCost family_cost(const PluginRegistry* registry, const ModelDims& dims,
                      const ModelArchitecture& arch, const LayoutChoice& layout,
                      double activation_bytes);

}  // namespace trellis::plan
