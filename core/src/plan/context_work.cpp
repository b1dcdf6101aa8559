#include "plan/context_work.h"

#include "trellis/error.h"

namespace trellis::plan {

ContextCostQuery context_cost_query(const ModelDims& dims, const LayoutChoice& layout,
                                    double activation_bytes) {
  ContextCostQuery q;
  q.dims = dims;
  q.tensor = layout.tensor;
  q.context = layout.context;
  q.micro_batch = layout.micro_batch;
  q.seq_len = dims.seq_len;
  q.activation_bytes = activation_bytes;
  return q;
}

ContextCost context_cost(const PluginRegistry* registry, const ModelDims& dims,
                         const LayoutChoice& layout, double activation_bytes) {
  if (registry == nullptr) {
    throw InputError("context mode '" + layout.context_mode +
                     "': no plugin registry to ask the context plugin for its costs");
  }
  return registry->describe_context_cost(layout.context_mode,
                                         context_cost_query(dims, layout, activation_bytes));
}

LayerCost context_layer_cost(const LayerCost& local, const LayerCost& whole,
                             const ContextCost& context) {
  LayerCost c = local;
  const PassCost& own = local.attention_core;
  PassCost shared;
  shared.flops = context.attention_share * whole.attention_core.flops;
  shared.bytes = context.attention_share * whole.attention_core.bytes;
  c.block.forward.flops += shared.flops - own.flops;
  c.block.forward.bytes += shared.bytes - own.bytes;
  c.block.backward_input.flops += kAttentionBackwardProducts * (shared.flops - own.flops);
  c.block.backward_input.bytes += shared.bytes - own.bytes;
  c.attention_core.flops = shared.flops;
  c.attention_core.bytes = shared.bytes;
  c.block_stash.attention_probabilities = context.attention_stash;
  c.block_stash.backward_workspace += context.backward_workspace;
  return c;
}

}  // namespace trellis::plan
