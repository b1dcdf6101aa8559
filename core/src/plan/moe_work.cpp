#include "plan/moe_work.h"

#include <set>

#include "plan/family_cost.h"
#include "trellis/error.h"
#include "trellis/rank_groups.h"

namespace trellis::plan {

MoeWork moe_work(const PluginRegistry* registry, const ModelDims& dims,
                 const ModelArchitecture& arch, const LayoutChoice& layout, const MoeSettings& moe,
                 const LayerCost& dense, double activation_bytes) {
  if (registry == nullptr || !registry->describes_moe_cost(layout.tensor_mode)) {
    throw InputError("tensor mode '" + layout.tensor_mode +
                     "': its layers plugin does not describe an MoE block's cost "
                     "(describe_moe_cost, trellis/moe_cost.h), so trellis-plan cannot predict "
                     "a model with experts under it");
  }
  MoeCostQuery query;
  query.layer = family_cost_query(dims, arch, layout, activation_bytes);
  query.moe = moe;
  query.moe.expert_parallel = layout.expert;
  MoeWork w;
  w.block = registry->describe_moe_cost(layout.tensor_mode, query);
  w.layer = dense;
  w.layer.block = w.block.block;
  w.layer.block_stash = w.block.stash;
  w.layer.parameters.block = w.block.parameters;
  if (layout.expert > 1) {
    if (!registry->describes_dispatch_cost(layout.expert_dispatcher)) {
      throw InputError("expert dispatcher '" + layout.expert_dispatcher +
                       "': its plugin does not describe its cost (describe_dispatch_cost, "
                       "trellis/dispatch_cost.h), so trellis-plan cannot predict it");
    }
    DispatchCostQuery d;
    d.expert = layout.expert;
    d.experts = moe.experts;
    d.hidden = dims.hidden;
    d.rows = w.block.routed_rows * static_cast<double>(layout.micro_batch * dims.seq_len);
    d.value_bytes = activation_bytes;
    w.dispatch = registry->describe_dispatch_cost(layout.expert_dispatcher, d);
  }
  // The dispatcher's buffers live inside dispatch and combine, in the forward and the input
  // gradient alike.
  const double dispatcher_buffers =
      w.dispatch ? w.dispatch->workspace * w.block.routed_rows * static_cast<double>(dims.hidden)
                 : 0.0;
  w.layer.block_stash.backward_workspace += dispatcher_buffers;
  w.forward_workspace = w.block.forward_workspace + dispatcher_buffers;
  return w;
}

std::vector<std::vector<int>> expert_groups(const ParallelLayout& layout, int ep,
                                            bool expert_data) {
  std::set<std::vector<int>> groups;
  for (int r = 0; r < layout.world_size(); ++r)
    groups.insert(expert_group_members(layout, r, ep, expert_data));
  return {groups.begin(), groups.end()};
}

}  // namespace trellis::plan
