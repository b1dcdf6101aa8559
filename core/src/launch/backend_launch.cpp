#include "launch/backend_launch.h"

namespace trellis {

void apply_backend_launch_need(const PluginRegistry& registry, const std::string& backend,
                               LaunchOptions& options) {
  const PluginInfo& plugin = registry.find(PluginKind::comm, backend);
  options.mpirun = plugin.launch == LaunchNeed::mpirun;
  options.mpirun_reason = options.mpirun ? "comm backend '" + backend + "' (" +
                                               plugin.file.filename().string() +
                                               ") needs its ranks started by mpirun"
                                         : std::string();
}

}  // namespace trellis
