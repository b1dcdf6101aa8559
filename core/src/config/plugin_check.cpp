// The plugins a run names. Core knows nothing of particular layer families, schedules or
// backends: it finds the ones the run uses, checks their config tables against the options they
// declare, and passes the run to their check hooks; the problems those return are reported at
// the keys they name, like core's own.
#include <string>

#include "config/config_check.h"
#include "config/config_schema.h"
#include "config/config_value.h"
#include "config/did_you_mean.h"
#include "trellis/error.h"

namespace trellis {

namespace {

std::string kind_phrase(PluginKind kind) {
  switch (kind) {
    case PluginKind::comm:
      return "comm backend";
    case PluginKind::layers:
      return "layers plugin";
    case PluginKind::schedule:
      return "schedule plugin";
  }
  return "plugin";
}

std::string plugin_label(PluginKind kind, const std::string& name) {
  return kind_phrase(kind) + " '" + name + "'";
}

// `entry`'s value as the option's type, or an explanation of why it is not one.
std::optional<OptionValue> typed_option(const OptionSpec& spec, const BackendOptionEntry& entry,
                                        std::string& why) {
  const OptionValue& v = entry.value;
  switch (spec.type) {
    case OptionType::boolean:
      if (std::holds_alternative<bool>(v)) return v;
      break;
    case OptionType::integer:
      if (std::holds_alternative<std::int64_t>(v)) return v;
      break;
    case OptionType::number:
      if (std::holds_alternative<double>(v)) return v;
      if (const auto* i = std::get_if<std::int64_t>(&v))
        return OptionValue{static_cast<double>(*i)};
      break;
    case OptionType::string:
      if (std::holds_alternative<std::string>(v)) return v;
      // --set comm.ucx.tls=1 meant the text.
      if (entry.override_text) return OptionValue{*entry.override_text};
      break;
  }
  static const char* const names[] = {"a boolean", "an integer", "a float", "a string"};
  why = std::string("wrong type: expected ") +
        (spec.type == OptionType::integer ? "an integer"
                                          : std::string("a ") + option_type_name(spec.type)) +
        ", got " + names[v.index()];
  return std::nullopt;
}

std::string option_list(const std::vector<OptionSpec>& specs) {
  if (specs.empty()) return "none (this backend takes no options)";
  std::string out;
  for (const OptionSpec& spec : specs) {
    out += (out.empty() ? "" : ", ") + std::string(spec.key) + " (" + option_type_name(spec.type) +
           ")";
  }
  return out;
}

void check_comm_tables(CheckContext& ctx, const PluginRegistry& registry, ResolvedRun& run) {
  for (const auto& [name, table] : ctx.read().comm_tables) {
    const std::string table_key = "comm." + name;
    std::vector<OptionSpec> specs;
    try {
      registry.find(PluginKind::comm, name);
      specs = registry.options(PluginKind::comm, name);
    } catch (const PluginError& e) {
      ctx.problem(table_key,
                  std::string("options for a comm backend that no plugin provides: ") + e.what());
      continue;
    }
    std::vector<std::string> known;
    for (const OptionSpec& spec : specs) known.emplace_back(spec.key);
    Options options;
    for (const auto& [key, entry] : table.options) {
      const std::string option_key = table_key + "." + key;
      const OptionSpec* spec = nullptr;
      for (const OptionSpec& s : specs)
        if (key == s.key) spec = &s;
      if (!spec) {
        ctx.problem(option_key, "unknown option of comm backend '" + name + "'" +
                                    did_you_mean(key, known) +
                                    "; valid options: " + option_list(specs));
        continue;
      }
      std::string why;
      if (auto value = typed_option(*spec, entry, why)) {
        options.set(key, *value);
      } else {
        ctx.problem(option_key, why + "; valid: " + option_list({*spec}));
      }
    }
    run.comm_options[name] = std::move(options);
  }
}

// The plugins the run names, and which of them it uses.
std::vector<PluginUse> plugin_uses(CheckContext& ctx, const ResolvedRun& run, bool world_known) {
  const RunConfig& c = ctx.config();
  std::vector<PluginUse> uses;
  if (ctx.valid("parallel.tensor_mode")) {
    uses.push_back({PluginKind::layers,
                    c.parallel.tensor_mode,
                    "parallel.tensor_mode",
                    true,
                    {},
                    std::nullopt});
  }
  if (ctx.valid({"parallel.schedule", "parallel.pipeline"})) {
    const bool used = c.parallel.pipeline > 1;
    uses.push_back({PluginKind::schedule, c.parallel.schedule, "parallel.schedule", used,
                    used ? "" : "pipeline = 1: one stage needs no schedule", std::nullopt});
  }
  if (ctx.valid("comm.backend") && world_known) {
    const bool used = run.world_size > 1;
    uses.push_back({PluginKind::comm, c.comm.backend, "comm.backend", used,
                    used ? "" : "world size 1: nothing communicates", std::nullopt});
  }
  return uses;
}

// Reports a plugin's problem at the key it names; a key that is not one of ours (a plugin's
// mistake) goes to the key that chose the plugin, so the user still sees where to look.
void report(CheckContext& ctx, const PluginUse& use, const ConfigProblem& problem) {
  const std::string label = plugin_label(use.kind, use.name) + ": ";
  const bool known = find_key(problem.key) != nullptr ||
                     (problem.key.starts_with("comm.") && !ctx.value_text(problem.key).empty());
  if (known) {
    ctx.problem(problem.key, label + problem.message);
  } else {
    ctx.problem(use.key, label + (problem.key.empty() ? "" : problem.key + ": ") + problem.message);
  }
}

}  // namespace

void check_plugins(CheckContext& ctx, const RunEnvironment& env, LayoutStatus layout,
                   ResolvedRun& run) {
  if (!ctx.valid("plugins.paths")) return;
  std::shared_ptr<PluginRegistry> registry;
  try {
    registry =
        std::make_shared<PluginRegistry>(PluginRegistry::discover(PluginRegistry::search_path(
            env.plugin_path ? env.plugin_path->c_str() : nullptr, ctx.config().plugins.paths)));
  } catch (const PluginError& e) {
    ctx.problem("plugins.paths", e.what());
    return;
  }
  run.registry = registry;

  check_comm_tables(ctx, *registry, run);

  // Without a world size it is unknown whether the backend is used; its lookup waits until the
  // world size is fixed.
  run.plugins = plugin_uses(ctx, run, layout.world_known);
  bool all_found = true;
  for (PluginUse& use : run.plugins) {
    if (!use.used) continue;
    try {
      use.info = registry->find(use.kind, use.name);
    } catch (const PluginError& e) {
      ctx.problem(use.key, e.what());
      ctx.invalidate(use.key);
      all_found = false;
    }
  }
  if (!layout.query_ready || !all_found) return;

  for (const PluginUse& use : run.plugins) {
    if (!use.used) continue;
    // Only a backend has a table; the run's config is not final yet, so look it up by name.
    const Options* options = nullptr;
    if (use.kind == PluginKind::comm) {
      auto table = run.comm_options.find(use.name);
      if (table != run.comm_options.end()) options = &table->second;
    }
    try {
      for (const ConfigProblem& problem : registry->check(use.kind, use.name, run.query(options))) {
        report(ctx, use, problem);
      }
    } catch (const InputError& e) {
      ctx.problem(use.key, plugin_label(use.kind, use.name) + ": " + e.what());
    }
  }
}

}  // namespace trellis
