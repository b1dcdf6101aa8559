// The layer family the registry hands out: the plugin's own behind plugin_call.h's boundary, and
// so is every layer it makes (a call on a layer is reported with the layer's name: "forward of
// h.3"). A layer keeps the plugin's library loaded until it is gone.
#pragma once

#include <memory>

#include "plugin/plugin_call.h"
#include "trellis/layer.h"

namespace trellis::plugin_detail {

// `has_moe_statistics`: the plugin's ABI minor has LayerFamily::take_moe_statistics (2.3); an
// older plugin's class lacks the virtual, and the guard answers for it (no MoE blocks).
std::shared_ptr<LayerFamily> guard_layer_family(std::shared_ptr<LayerFamily> family,
                                                PluginOwnerPtr owner, bool has_moe_statistics);

}  // namespace trellis::plugin_detail
