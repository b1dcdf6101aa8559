// The plugins of the build tree (TRELLIS_TEST_PLUGIN_DIR), found once per test binary, and the
// costs their layer families describe: the planner's tests ask the 1d, seq and 2d plugins as
// trellis-plan does.
#pragma once

#include <string>

#include "plan/family_cost.h"
#include "trellis/plugin_registry.h"

namespace trellis::plan::test {

inline const PluginRegistry& build_tree_plugins() {
  static const PluginRegistry registry =
      PluginRegistry::discover({{TRELLIS_TEST_PLUGIN_DIR, "build tree"}});
  return registry;
}

// `family`'s cost for a model, tensor size, micro batch and bytes a value.
inline LayerCost family_cost_of(const std::string& family, const ModelDims& dims, int tensor,
                                int micro_batch, double activation_bytes) {
  LayoutChoice layout;
  layout.tensor_mode = family;
  layout.tensor = tensor;
  layout.micro_batch = micro_batch;
  return family_cost(&build_tree_plugins(), dims, ModelArchitecture::gpt2(dims.hidden, dims.heads),
                     layout, activation_bytes);
}

}  // namespace trellis::plan::test
