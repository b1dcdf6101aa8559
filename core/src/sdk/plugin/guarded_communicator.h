// The communicator the registry hands out: the backend's own behind plugin_call.h's boundary, and
// so are the Works its operations return and the communicators split() makes (which keep the
// plugin's library loaded, not the communicator they came from: destroying a world before its
// groups stays the backend's to handle). The group's name and timeout, which core sets on the
// communicator it holds, are passed to the backend's before each call, so the backend's own
// messages name the group as core does.
#pragma once

#include <memory>

#include "plugin/plugin_call.h"
#include "trellis/comm.h"

namespace trellis::plugin_detail {

std::unique_ptr<Communicator> guard_communicator(std::shared_ptr<Communicator> comm,
                                                 PluginOwnerPtr owner);

}  // namespace trellis::plugin_detail
