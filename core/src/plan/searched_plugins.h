// Which layer families, context modes and schedules a --search tries: the plugins the registry
// finds (the planner names none), less those it cannot plan — a layers or context plugin that
// does not describe its cost (trellis/layer_cost.h, trellis/context_cost.h), a schedule whose check
// asks for options of its own (the csv schedule's file: a search has no options to give) — each
// left out with a note. In the registry's order (plugins sorted by file name).
#pragma once

#include <string>
#include <vector>

#include "trellis/config.h"
#include "trellis/plugin_registry.h"

namespace trellis::plan {

struct SearchedPlugins {
  std::vector<std::string> families;
  std::vector<std::string> schedules;
  std::vector<std::string> context_modes;
  std::vector<std::string> notes;  // what was left out, and why
};

// `only_families` / `only_schedules` / `only_context_modes`: names to keep (empty: all). `dims`:
// the model, for the schedules' checks. A null registry gives nothing, with a note.
SearchedPlugins searched_plugins(const PluginRegistry* registry,
                                 const std::vector<std::string>& only_families,
                                 const std::vector<std::string>& only_schedules,
                                 const std::vector<std::string>& only_context_modes,
                                 const ModelDims& dims);

}  // namespace trellis::plan
