#include "launch/backend_launch.h"

namespace trellis {

void apply_backend_launch_need(const PluginRegistry& registry,
                               const std::vector<std::string>& backends, LaunchOptions& options) {
  options.mpirun = false;
  options.mpirun_reason.clear();
  for (const std::string& backend : backends) {
    const PluginInfo& plugin = registry.find(PluginKind::comm, backend);
    if (plugin.launch != LaunchNeed::mpirun || options.mpirun) continue;
    options.mpirun = true;
    options.mpirun_reason = "comm backend '" + backend + "' (" + plugin.file.filename().string() +
                            ") needs its ranks started by mpirun";
  }
}

void apply_backend_launch_need(const PluginRegistry& registry, const std::string& backend,
                               LaunchOptions& options) {
  apply_backend_launch_need(registry, std::vector<std::string>{backend}, options);
}

}  // namespace trellis
