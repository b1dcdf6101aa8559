#include "trellis/plugin.h"

namespace trellis {

const char* plugin_kind_name(PluginKind kind) noexcept {
  switch (kind) {
    case PluginKind::comm:
      return "comm";
    case PluginKind::layers:
      return "layers";
    case PluginKind::schedule:
      return "schedule";
    case PluginKind::context:
      return "context";
    case PluginKind::dispatcher:
      return "dispatcher";
  }
  return "unknown";
}

const char* launch_need_name(LaunchNeed need) noexcept {
  switch (need) {
    case LaunchNeed::any:
      return "any";
    case LaunchNeed::mpirun:
      return "mpirun";
  }
  return "unknown";
}

const char* core_version() noexcept {
  return TRELLIS_VERSION;
}

}  // namespace trellis
