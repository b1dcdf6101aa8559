#include "plugin/left_out_plugins.h"

#include <iterator>

namespace trellis::plugin_detail {

namespace {

// A sentinel ends the list, so that a build leaving nothing out still has a valid array.
constexpr LeftOutPlugin kLeftOut[] = {
#include "trellis/left_out_plugins.inc"
    {PluginKind::comm, "", ""},
};

}  // namespace

std::span<const LeftOutPlugin> plugins_left_out_of_build() noexcept {
  return std::span<const LeftOutPlugin>(kLeftOut, std::size(kLeftOut) - 1);
}

const LeftOutPlugin* left_out_plugin(PluginKind kind, std::string_view name) noexcept {
  for (const LeftOutPlugin& plugin : plugins_left_out_of_build()) {
    if (plugin.kind == kind && plugin.name == name) return &plugin;
  }
  return nullptr;
}

}  // namespace trellis::plugin_detail
