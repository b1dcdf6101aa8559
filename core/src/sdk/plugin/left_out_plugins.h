// The plugins Trellis ships that this build left out (a backend whose library was not found when
// Trellis was configured), with why. CMake writes the list (cmake/TrellisOptionalParts.cmake).
// A name on it is a real plugin's name: a run that does not use the plugin may name it (the same
// config runs on a build with and without MPI), and one that uses it is told why it is missing.
#pragma once

#include <span>
#include <string_view>

#include "trellis/plugin.h"

namespace trellis::plugin_detail {

struct LeftOutPlugin {
  PluginKind kind;
  std::string_view name;
  std::string_view reason;  // e.g. "no MPI was found when Trellis was configured (...)"
};

std::span<const LeftOutPlugin> plugins_left_out_of_build() noexcept;

// The entry of this kind and name, or null.
const LeftOutPlugin* left_out_plugin(PluginKind kind, std::string_view name) noexcept;

}  // namespace trellis::plugin_detail
