// How a run's ranks must be started, as its communication backend's descriptor says
// (PluginDescriptor::launch), instead of core knowing backends by name.
#pragma once

#include <string>

#include "launch/launcher.h"
#include "trellis/plugin_registry.h"

namespace trellis {

// Sets `options.mpirun`, and the reason its error gives when mpirun is missing, from the launch
// need of the comm plugin `backend`. Throws PluginError when no usable plugin provides it.
void apply_backend_launch_need(const PluginRegistry& registry, const std::string& backend,
                               LaunchOptions& options);

}  // namespace trellis
