// The schedule object the registry hands out: the plugin's own, behind plugin_call.h's boundary.
#pragma once

#include <memory>

#include "plugin/plugin_call.h"
#include "trellis/schedule.h"

namespace trellis::plugin_detail {

std::shared_ptr<Schedule> guard_schedule(std::shared_ptr<Schedule> schedule, PluginOwnerPtr owner);

}  // namespace trellis::plugin_detail
