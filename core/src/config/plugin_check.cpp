// The plugins a run names. Core knows nothing of particular layer families, schedules or
// backends: it finds the ones the run uses, checks their config tables against the options they
// declare, and passes the run to their check hooks; the problems those return are reported at
// the keys they name, like core's own.
#include <algorithm>
#include <filesystem>
#include <string>

#include "config/comm_groups.h"
#include "config/config_check.h"
#include "config/config_schema.h"
#include "config/config_value.h"
#include "config/did_you_mean.h"
#include "plugin/left_out_plugins.h"
#include "trellis/error.h"
#include "trellis/pipeline_plan.h"
#include "trellis/simulator.h"

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
    case PluginKind::context:
      return "context plugin";
    case PluginKind::dispatcher:
      return "dispatcher plugin";
  }
  return "plugin";
}

// The section holding this kind's option tables.
std::string table_section(PluginKind kind) {
  switch (kind) {
    case PluginKind::comm:
      return "comm";
    case PluginKind::schedule:
      return "schedule";
    case PluginKind::layers:
      return "layers";
    case PluginKind::context:
      return "context";
    case PluginKind::dispatcher:
      return "dispatcher";
  }
  return "comm";
}

std::string plugin_label(PluginKind kind, const std::string& name) {
  return kind_phrase(kind) + " '" + name + "'";
}

// `entry`'s value as the option's type, or an explanation of why it is not one.
std::optional<OptionValue> typed_option(const OptionSpec& spec, const PluginOptionEntry& entry,
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
    case OptionType::path:
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
  if (specs.empty()) return "none (this plugin takes no options)";
  std::string out;
  for (const OptionSpec& spec : specs) {
    out += (out.empty() ? "" : ", ") + std::string(spec.key) + " (" + option_type_name(spec.type) +
           ")";
  }
  return out;
}

void check_plugin_tables(CheckContext& ctx, const PluginRegistry& registry, ResolvedRun& run) {
  for (const auto& [table_key, table] : ctx.read().plugin_tables) {
    const std::size_t dot = table_key.find('.');
    const std::string section = table_key.substr(0, dot);
    const std::string name = table_key.substr(dot + 1);
    const PluginKind kind = *plugin_table_kind(section);
    std::vector<OptionSpec> specs;
    try {
      registry.find(kind, name);
      specs = registry.options(kind, name);
    } catch (const PluginError& e) {
      ctx.problem(table_key,
                  "options for a " + kind_phrase(kind) + " that no plugin provides: " + e.what());
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
        ctx.problem(option_key, "unknown option of " + plugin_label(kind, name) +
                                    did_you_mean(key, known) +
                                    "; valid options: " + option_list(specs));
        continue;
      }
      std::string why;
      if (auto value = typed_option(*spec, entry, why)) {
        // A path written in the file is relative to the file; one from --set to the caller.
        if (spec->type == OptionType::path && entry.origin.kind == Origin::Kind::file) {
          std::filesystem::path p(std::get<std::string>(*value));
          if (!p.empty() && p.is_relative()) {
            p = std::filesystem::path(ctx.read().file).parent_path() / p;
            value = OptionValue{p.lexically_normal().string()};
          }
        }
        options.set(key, *value);
      } else {
        ctx.problem(option_key, why + "; valid: " + option_list({*spec}));
      }
    }
    run.plugin_options[table_key] = std::move(options);
  }
}

// [comm.groups]: one use per other backend a dimension names, at the key of the first dimension
// whose groups it carries (has more than one rank), else of the first naming it.
void add_group_backend_uses(CheckContext& ctx, const ResolvedRun& run, bool world_known,
                            LoadPurpose purpose, std::vector<PluginUse>& uses) {
  const RunConfig& c = ctx.config();
  const bool layout_known = world_known && run.layout.world_size() == run.world_size;
  for (CommDimension dimension : kCommDimensions) {
    const std::string key = comm_group_key(dimension);
    const std::string& name = comm_group_entry(c.comm.groups, dimension);
    if (name.empty() || !ctx.valid(key) || name == c.comm.backend) continue;
    const int size = layout_known ? comm_dimension_size(dimension, run.layout,
                                                        static_cast<int>(run.moe.expert_parallel))
                                  : 0;
    const bool planned = purpose == LoadPurpose::plan;
    const bool used = size > 1 && !planned;
    std::string unused_reason =
        planned         ? "planned, not run"
        : !layout_known ? "layout unknown"
                        : std::string(comm_dimension_name(dimension)) + " groups of one rank";
    auto same = std::find_if(uses.begin(), uses.end(), [&](const PluginUse& use) {
      return use.kind == PluginKind::comm && use.key.starts_with("comm.groups.") &&
             use.name == name;
    });
    if (same != uses.end()) {
      if (same->used || !used) continue;
      uses.erase(same);
    }
    uses.push_back(
        {PluginKind::comm, name, key, used, used ? "" : std::move(unused_reason), std::nullopt});
  }
}

// The plugins the run names, and which of them it uses.
std::vector<PluginUse> plugin_uses(CheckContext& ctx, const ResolvedRun& run, bool world_known,
                                   LoadPurpose purpose) {
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
  if (ctx.valid({"parallel.context_mode", "parallel.context"})) {
    const bool used = c.parallel.context > 1;
    uses.push_back({PluginKind::context, c.parallel.context_mode, "parallel.context_mode", used,
                    used ? "" : "context = 1: whole sequences need no context attention",
                    std::nullopt});
  }
  // Named by mixtures of experts only: a dense run never looks for a dispatcher.
  if (ctx.valid({"parallel.expert_dispatcher", "parallel.expert", "model.experts"}) &&
      c.model.experts > 0) {
    const bool used = c.parallel.expert > 1;
    uses.push_back({PluginKind::dispatcher, c.parallel.expert_dispatcher,
                    "parallel.expert_dispatcher", used,
                    used ? "" : "expert = 1: every rank holds every expert", std::nullopt});
  }
  if (ctx.valid("comm.backend")) {
    // Without a world size it is unknown whether the backend is used; only its name is checked.
    const bool planned = purpose == LoadPurpose::plan;
    const bool used = world_known && run.world_size > 1 && !planned;
    std::string unused_reason = planned       ? "planned, not run"
                                : world_known ? "world size 1: nothing communicates"
                                              : "world size unknown";
    uses.push_back({PluginKind::comm, c.comm.backend, "comm.backend", used,
                    used ? "" : std::move(unused_reason), std::nullopt});
  }
  add_group_backend_uses(ctx, run, world_known, purpose, uses);
  return uses;
}

// A plugin the run names but does not use is not loaded or checked, but its name must be one
// that exists: a plugin found provides it, or it is a plugin Trellis ships that this build left
// out (so that a one-rank run naming backend "mpi" runs on a build without MPI, as DESIGN.md's
// laptop-to-cluster config promises). Anything else is a typo that would surface only when the
// layout grows.
void check_unused_name(CheckContext& ctx, const PluginRegistry& registry, PluginUse& use) {
  for (const PluginInfo& info : registry.plugins()) {
    if (info.kind == use.kind && info.name == use.name) return;
  }
  if (const auto* left_out = plugin_detail::left_out_plugin(use.kind, use.name)) {
    use.unused_reason += "; left out of this build: " + std::string(left_out->reason);
    return;
  }
  try {
    registry.find(use.kind, use.name);
  } catch (const PluginError& e) {
    // The note goes after the message's first line, above the list of what exists.
    std::string message = e.what();
    const std::size_t end = std::min(message.find('\n'), message.size());
    message.insert(end, " This run does not use the " + kind_phrase(use.kind) + " (" +
                            use.unused_reason +
                            "), but the name must still be one a plugin provides.");
    ctx.problem(use.key, message);
    ctx.invalidate(use.key);
  }
}

// Builds the schedule's plan for this run and runs the simulator over it: an inconsistent or
// deadlocking schedule is a config error (with the stuck actions drawn), before any rank starts.
void simulate_schedule(CheckContext& ctx, const PluginRegistry& registry, const PluginUse& use,
                       const Options* options, ResolvedRun& run) {
  try {
    ScheduleInit init;
    static const Options none;
    init.options = options ? options : &none;
    std::shared_ptr<Schedule> schedule = registry.make_schedule(use.name, init);
    ScheduleQuery shape{run.layout.sizes().pipeline, 0, run.microbatches, run.virtual_stages};
    PipelinePlan plan = build_plan(*schedule, shape);
    SimulationResult result = simulate(plan, kDryRunCosts);
    if (!result.completed) {
      ctx.problem(use.key, plugin_label(use.kind, use.name) + ": " + result.deadlock);
      return;
    }
    run.pipeline_plan = std::move(plan);
    run.pipeline_simulation = std::move(result);
  } catch (const Error& e) {
    ctx.problem(use.key, plugin_label(use.kind, use.name) + ": " + e.what());
  }
}

// Reports a plugin's problem at the key it names; a key that is not one of ours (a plugin's
// mistake) goes to the key that chose the plugin, so the user still sees where to look.
void report(CheckContext& ctx, const PluginUse& use, const ConfigProblem& problem) {
  const std::string label = plugin_label(use.kind, use.name) + ": ";
  // A backend's check speaks of comm.backend; chosen by [comm.groups], the key is the group's.
  if (use.key.starts_with("comm.groups.") && problem.key == "comm.backend") {
    ctx.problem(use.key, label + problem.message);
    return;
  }
  const bool known = find_key(problem.key) != nullptr ||
                     (plugin_table_kind(problem.key.substr(0, problem.key.find('.'))) &&
                      !ctx.value_text(problem.key).empty());
  if (known) {
    ctx.problem(problem.key, label + problem.message);
  } else {
    ctx.problem(use.key, label + (problem.key.empty() ? "" : problem.key + ": ") + problem.message);
  }
}

}  // namespace

void check_plugins(CheckContext& ctx, const RunEnvironment& env, LayoutStatus layout,
                   LoadPurpose purpose, ResolvedRun& run) {
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

  check_plugin_tables(ctx, *registry, run);

  run.plugins = plugin_uses(ctx, run, layout.world_known, purpose);
  bool all_found = true;
  for (PluginUse& use : run.plugins) {
    if (!use.used) {
      check_unused_name(ctx, *registry, use);
      continue;
    }
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
    // The run's config is not final yet, so the plugin's table is looked up by name.
    const Options* options = nullptr;
    auto table = run.plugin_options.find(table_section(use.kind) + "." + use.name);
    if (table != run.plugin_options.end()) options = &table->second;
    // run.config and the settings derived from it are filled after the checks: the query takes
    // the values under check.
    RunQuery query = run.query(options);
    query.micro_batch = static_cast<int>(ctx.config().train.micro_batch);
    query.device = ctx.config().device.kind == "cuda" ? DeviceKind::cuda : DeviceKind::cpu;
    bool accepted = true;
    try {
      for (const ConfigProblem& problem : registry->check(use.kind, use.name, query)) {
        report(ctx, use, problem);
        accepted = false;
      }
    } catch (const InputError& e) {
      ctx.problem(use.key, plugin_label(use.kind, use.name) + ": " + e.what());
      accepted = false;
    }
    if (accepted && use.kind == PluginKind::schedule)
      simulate_schedule(ctx, *registry, use, options, run);
  }
}

}  // namespace trellis
