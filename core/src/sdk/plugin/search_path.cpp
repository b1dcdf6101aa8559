// Where plugins are looked for, in order: TRELLIS_PLUGIN_PATH, [plugins] paths, the install's
// plugin directory. The environment comes first so a user can try a plugin without editing the
// run's config, and the install comes last so anything the user names wins over what ships.
#include <string>
#include <string_view>
#include <system_error>

#include <boost/dll/runtime_symbol_info.hpp>

#include "trellis/plugin_registry.h"

namespace trellis {

std::vector<PluginSearchDir> PluginRegistry::search_path(
    const char* env_value, const std::vector<std::string>& config_paths) {
  std::vector<PluginSearchDir> path;
  if (env_value != nullptr) {
    std::string_view rest = env_value;
    while (!rest.empty()) {
      const std::size_t colon = rest.find(':');
      const std::string_view entry = rest.substr(0, colon);
      // Empty entries ("a::b", a trailing ':') come from shell concatenation; they mean nothing.
      if (!entry.empty()) path.push_back({std::string(entry), "TRELLIS_PLUGIN_PATH"});
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  for (const std::string& entry : config_paths) {
    if (!entry.empty()) path.push_back({entry, "[plugins] paths"});
  }
  path.push_back({installed_plugin_dir(), "install directory"});
  return path;
}

std::filesystem::path PluginRegistry::installed_plugin_dir() {
  // The location of the code running this line is libtrellis_sdk itself, in the build tree
  // (build/lib) as in an install (<prefix>/lib); plugins sit in trellis/plugins below it in both.
  const std::filesystem::path core_dir = boost::dll::this_line_location().parent_path();
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::weakly_canonical(core_dir, ec);
  if (ec) dir = core_dir.lexically_normal();
  return dir / "trellis" / "plugins";
}

}  // namespace trellis
