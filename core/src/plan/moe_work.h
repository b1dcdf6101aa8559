// What mixture of experts changes in a layout's cost: the planner's side of trellis/moe_cost.h
// and trellis/dispatch_cost.h.
//
// Every `moe.every`-th block of the model (MoeSettings::is_moe_block) is an MoE block; the
// others are the family's dense block. The layers plugin describes an MoE block on one tensor
// rank (its router, its local experts' rows under balanced routing, its stash and parameters,
// split into the experts' and the rest); under expert parallelism (layout.expert = ep > 1) the
// dispatcher plugin adds its collectives over the expert group and its copies to the forward and
// the input gradient of each MoE block. Expert parameters' gradients reduce (and ZeRO-1 shards
// their optimizer state) over the expert-data group, data / ep ranks; the rest over data x
// context as a dense model's.
#pragma once

#include <optional>
#include <vector>

#include "plan/layout_choice.h"
#include "trellis/config.h"
#include "trellis/dispatch_cost.h"
#include "trellis/layer_cost.h"
#include "trellis/moe_cost.h"
#include "trellis/parallel.h"
#include "trellis/plugin_registry.h"

namespace trellis::plan {

// An MoE block as the planner walks it, next to the family's dense cost.
struct MoeWork {
  MoeBlockCost block;
  // The family's LayerCost with the block, its stash and its parameters an MoE block's (the
  // experts' parameters left out: `block.expert_parameters`).
  LayerCost layer;
  std::optional<DispatchCost> dispatch;  // under expert parallelism
  // Values a token the block's forward holds beyond its stash: the family's, and the
  // dispatcher's own buffers (its workspace per row x the rows a token routes x h).
  double forward_workspace = 0.0;
};

// Asks the family (layout.tensor_mode) for its MoE block and, when layout.expert > 1, the
// dispatcher (layout.expert_dispatcher) for its cost, with `dense` the family's own cost for the
// same query. Throws InputError when either plugin describes no such cost.
MoeWork moe_work(const PluginRegistry* registry, const ModelDims& dims,
                 const ModelArchitecture& arch, const LayoutChoice& layout, const MoeSettings& moe,
                 const LayerCost& dense, double activation_bytes);

// The world ranks of every expert group (`expert_data` false) or expert-data group (true).
std::vector<std::vector<int>> expert_groups(const ParallelLayout& layout, int ep, bool expert_data);

}  // namespace trellis::plan
