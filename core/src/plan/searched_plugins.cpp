#include "plan/searched_plugins.h"

#include <algorithm>

namespace trellis::plan {

namespace {

bool offered(const std::vector<std::string>& only, const std::string& name) {
  return only.empty() || std::find(only.begin(), only.end(), name) != only.end();
}

// Whether the schedule refuses a plain two-stage pipeline for want of its own options.
bool needs_options(const PluginRegistry& registry, const std::string& schedule,
                   const ModelDims& dims) {
  static const Options none;
  RunQuery query;
  query.dims = dims;
  // A probe of the options a plugin needs, which do not depend on the architecture.
  query.arch = ModelArchitecture::gpt2(dims.hidden, dims.heads);
  query.sizes = {1, 1, 1, 2};
  query.microbatches = 2;
  query.options = &none;
  const std::string own_table = "schedule." + schedule + ".";
  for (const ConfigProblem& problem : registry.check(PluginKind::schedule, schedule, query))
    if (problem.key.starts_with(own_table)) return true;
  return false;
}

}  // namespace

SearchedPlugins searched_plugins(const PluginRegistry* registry,
                                 const std::vector<std::string>& only_families,
                                 const std::vector<std::string>& only_schedules,
                                 const std::vector<std::string>& only_context_modes,
                                 const ModelDims& dims) {
  SearchedPlugins out;
  if (registry == nullptr) {
    out.notes.push_back("no plugin registry: no layer family or schedule to search");
    return out;
  }
  for (const PluginInfo& info : registry->plugins()) {
    if (!info.problem.empty()) continue;  // reported when a run names it
    if (info.kind == PluginKind::layers && offered(only_families, info.name)) {
      if (registry->describes_cost(info.name)) {
        out.families.push_back(info.name);
      } else {
        out.notes.push_back("tensor mode '" + info.name + "' (" + info.file.string() +
                            ") does not describe its cost: not searched");
      }
    } else if (info.kind == PluginKind::context && offered(only_context_modes, info.name)) {
      if (registry->describes_context_cost(info.name)) {
        out.context_modes.push_back(info.name);
      } else {
        out.notes.push_back("context mode '" + info.name + "' (" + info.file.string() +
                            ") does not describe its cost: not searched");
      }
    } else if (info.kind == PluginKind::schedule && offered(only_schedules, info.name)) {
      if (needs_options(*registry, info.name, dims)) {
        out.notes.push_back("schedule '" + info.name + "' needs options of its own: not searched");
      } else {
        out.schedules.push_back(info.name);
      }
    }
  }
  return out;
}

}  // namespace trellis::plan
