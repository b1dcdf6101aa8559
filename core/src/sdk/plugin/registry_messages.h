// The text of the registry's errors that describe the whole search: what exists, where the
// search looked, what it skipped, and which known name is closest to a misspelt one.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "trellis/plugin_registry.h"

namespace trellis::plugin_detail {

// Levenshtein distance: insertions, deletions and substitutions each cost 1.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The name in `names` closest to `wanted` when it is close enough to be a likely typo; else "".
std::string closest_name(std::string_view wanted, const std::vector<std::string>& names);

// Lines listing every plugin of `kind` with its file (and its problem, if any), or saying there
// are none.
std::string describe_plugins_of_kind(PluginKind kind, const std::vector<PluginInfo>& plugins);

// Lines listing the search path in order, with origins and the entries that do not exist, then
// the files that were skipped and why.
std::string describe_search(const std::vector<PluginSearchDir>& searched,
                            const std::vector<SkippedFile>& skipped);

}  // namespace trellis::plugin_detail
