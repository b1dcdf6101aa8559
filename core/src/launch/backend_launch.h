// How a run's ranks must be started, as its communication backends' descriptors say
// (PluginDescriptor::launch), instead of core knowing backends by name.
#pragma once

#include <string>
#include <vector>

#include "launch/launcher.h"
#include "trellis/plugin_registry.h"

namespace trellis {

// Sets `options.mpirun`, and the reason its error gives when mpirun is missing, from the launch
// needs of the comm plugins `backends` (every backend a run's groups use: mpirun when any of them
// needs it; the others meet through the store the launcher serves either way). Throws
// PluginError when no usable plugin provides one of them.
void apply_backend_launch_need(const PluginRegistry& registry,
                               const std::vector<std::string>& backends, LaunchOptions& options);
void apply_backend_launch_need(const PluginRegistry& registry, const std::string& backend,
                               LaunchOptions& options);

}  // namespace trellis
