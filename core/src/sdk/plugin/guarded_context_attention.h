// The context attention the registry hands out: the plugin's own, behind plugin_call.h's boundary.
#pragma once

#include <memory>

#include "plugin/plugin_call.h"
#include "trellis/context_attention.h"

namespace trellis::plugin_detail {

std::shared_ptr<ContextAttention> guard_context_attention(std::shared_ptr<ContextAttention> inner,
                                                          PluginOwnerPtr owner);

}  // namespace trellis::plugin_detail
