#include "plan/family_cost.h"

#include "trellis/error.h"

namespace trellis::plan {

LayerCostQuery family_cost_query(const ModelDims& dims, const ModelArchitecture& arch,
                                 const LayoutChoice& layout, double activation_bytes) {
  LayerCostQuery q;
  q.dims = dims;
  q.arch = arch;
  q.tensor = layout.tensor;
  q.micro_batch = layout.micro_batch;
  q.seq_len = dims.seq_len;
  q.activation_bytes = activation_bytes;
  return q;
}

LayerCost family_cost(const PluginRegistry* registry, const ModelDims& dims,
                      const ModelArchitecture& arch, const LayoutChoice& layout,
                      double activation_bytes) {
  if (registry == nullptr) {
    throw InputError("tensor mode '" + layout.tensor_mode +
                     "': no plugin registry to ask the layer family for its costs");
  }
  return registry->describe_cost(layout.tensor_mode,
                                 family_cost_query(dims, arch, layout, activation_bytes));
}

}  // namespace trellis::plan
