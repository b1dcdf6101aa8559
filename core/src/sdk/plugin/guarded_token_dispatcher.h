// The token dispatcher the registry hands out: the plugin's own, behind plugin_call.h's boundary.
#pragma once

#include <memory>

#include "plugin/plugin_call.h"
#include "trellis/token_dispatcher.h"

namespace trellis::plugin_detail {

std::shared_ptr<TokenDispatcher> guard_token_dispatcher(std::shared_ptr<TokenDispatcher> inner,
                                                        PluginOwnerPtr owner);

}  // namespace trellis::plugin_detail
