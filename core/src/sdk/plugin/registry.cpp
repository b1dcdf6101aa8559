// PluginRegistry: discovery, checks and the factories' calls (see trellis/plugin_registry.h).
#include "trellis/plugin_registry.h"

#include <algorithm>
#include <map>
#include <string>
#include <system_error>
#include <utility>

#include "plugin/descriptor_check.h"
#include "plugin/guarded_communicator.h"
#include "plugin/guarded_context_attention.h"
#include "plugin/guarded_layer_family.h"
#include "plugin/guarded_schedule.h"
#include "plugin/guarded_token_dispatcher.h"
#include "plugin/left_out_plugins.h"
#include "plugin/library_probe.h"
#include "plugin/plugin_call.h"
#include "plugin/registry_messages.h"
#include "trellis/error.h"

namespace trellis {

namespace fs = std::filesystem;
using plugin_detail::describe_plugins_of_kind;
using plugin_detail::describe_search;

namespace {

// A plugin as loaded: its library stays open as long as the registry or any object it made.
struct LoadedPlugin {
  std::shared_ptr<boost::dll::shared_library> library;
  const PluginDescriptor* descriptor;
};

std::string in_quotes(std::string_view text) {
  // Built by appending: GCC 12 warns falsely (-Wrestrict) about "'" + std::string.
  std::string quoted(1, '\'');
  quoted.append(text);
  quoted += '\'';
  return quoted;
}

std::string text_or_empty(const char* text) {
  return text != nullptr ? text : "";
}

// "FILE (TRELLIS_PLUGIN_PATH)": where a plugin came from, for messages.
std::string where(const PluginInfo& info) {
  return info.file.string() + " (" + info.origin + ")";
}

}  // namespace

struct PluginRegistry::Impl {
  std::vector<PluginInfo> plugins;
  std::vector<LoadedPlugin> loaded;  // parallel to `plugins`
  std::vector<SkippedFile> skipped;
  std::vector<PluginSearchDir> searched;
  // Canonical paths already considered, with why each was skipped ("" for a plugin).
  std::map<fs::path, std::string> seen;

  void discover_entry(const PluginSearchDir& entry);
  void consider(const fs::path& file, const PluginSearchDir& entry, bool named_directly);
  std::size_t find(PluginKind kind, std::string_view name) const;

  static const Impl& checked(const std::unique_ptr<Impl>& impl) {
    if (!impl) throw Error("this PluginRegistry was moved from; use the registry it was moved to");
    return *impl;
  }
};

void PluginRegistry::Impl::discover_entry(const PluginSearchDir& entry) {
  std::error_code ec;
  const fs::file_status status = fs::status(entry.path, ec);
  if (!fs::exists(status)) return;  // recorded in `searched`; a missing entry is not an error
  if (!fs::is_directory(status)) {
    consider(entry.path, entry, /*named_directly=*/true);
    return;
  }
  std::vector<fs::path> files;
  for (fs::directory_iterator it(entry.path, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (it->path().extension() == ".so" && it->is_regular_file(type_ec)) {
      files.push_back(it->path());
    }
  }
  // An unreadable directory would otherwise look like an empty one; say so where users look.
  if (ec) skipped.push_back({entry.path, "cannot list this directory: " + ec.message()});
  // Directory order is whatever the filesystem gives; sorting makes listings and errors stable.
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) consider(file, entry, /*named_directly=*/false);
}

void PluginRegistry::Impl::consider(const fs::path& file, const PluginSearchDir& entry,
                                    bool named_directly) {
  std::error_code ec;
  fs::path canonical = fs::canonical(file, ec);
  if (ec) canonical = file.lexically_normal();
  auto reject = [&](const std::string& reason) {
    if (named_directly) {
      throw PluginError(file.string() + " (named in " + entry.origin +
                        ") cannot be used: " + reason +
                        ". Name a Trellis plugin library, or a directory that holds plugins.");
    }
    skipped.push_back({file, reason});
    seen[canonical] = reason;
  };
  // The same file reached twice (a directory listed twice, a symlink) is one plugin, not two.
  // A file named directly must be a plugin, even when a directory before it skipped it.
  if (const auto earlier = seen.find(canonical); earlier != seen.end()) {
    if (named_directly && !earlier->second.empty()) reject(earlier->second);
    return;
  }

  using Verdict = plugin_detail::ProbeResult::Verdict;
  const plugin_detail::ProbeResult probe = plugin_detail::probe_library(file);
  if (probe.verdict == Verdict::not_plugin || probe.verdict == Verdict::not_a_library) {
    return reject(probe.reason);
  }
  plugin_detail::LoadResult load = plugin_detail::load_plugin_library(file);
  if (!load.library) return reject("could not be loaded: " + load.error);
  if (!load.library->has(plugin_detail::kDescriptorAlias)) {
    return reject("not a Trellis plugin: exports no trellis_plugin descriptor");
  }
  const auto& descriptor =
      load.library->get_alias<const PluginDescriptor>(plugin_detail::kDescriptorAlias);

  PluginInfo info;
  info.kind = descriptor.kind;
  info.name = text_or_empty(descriptor.name);
  info.version = text_or_empty(descriptor.version);
  info.summary = text_or_empty(descriptor.summary);
  info.abi = descriptor.abi;
  info.file = file;
  info.origin = entry.origin;
  info.problem = plugin_detail::descriptor_problem(descriptor);
  // Fields after the frozen prefix exist only in a descriptor of this ABI major.
  if (info.problem.empty()) info.launch = descriptor.launch;
  plugins.push_back(std::move(info));
  loaded.push_back({std::move(load.library), &descriptor});
  seen[canonical] = "";
}

std::size_t PluginRegistry::Impl::find(PluginKind kind, std::string_view name) const {
  const std::string kind_name = plugin_kind_name(kind);
  std::vector<std::size_t> usable;
  std::vector<std::size_t> unusable;
  for (std::size_t i = 0; i < plugins.size(); ++i) {
    if (plugins[i].kind != kind || plugins[i].name != name) continue;
    (plugins[i].problem.empty() ? usable : unusable).push_back(i);
  }
  if (usable.size() == 1) return usable.front();

  if (usable.size() > 1) {
    // Strict on purpose: which file wins must not depend on directory order or install state.
    std::string message = kind_name + " plugin " + in_quotes(name) + " is provided by " +
                          std::to_string(usable.size()) + " files:\n";
    for (std::size_t i : usable) message += "  " + where(plugins[i]) + "\n";
    message +=
        "remove one of them (or take its directory off the plugin search path), so that "
        "exactly one file provides " +
        in_quotes(name);
    throw PluginError(message);
  }

  if (!unusable.empty()) {
    std::string message =
        kind_name + " plugin " + in_quotes(name) + " was found but cannot be used:";
    for (std::size_t i : unusable) {
      message += "\n  " + where(plugins[i]) + ": " + plugins[i].problem;
    }
    throw PluginError(message);
  }

  for (const PluginInfo& other : plugins) {
    if (other.name == name && other.kind != kind) {
      throw PluginError(in_quotes(name) + " is a " + plugin_kind_name(other.kind) + " plugin (" +
                        other.file.string() + "), not a " + kind_name + " plugin: name a " +
                        kind_name + " plugin here.\n" + describe_plugins_of_kind(kind, plugins));
    }
  }

  std::vector<std::string> names;
  for (const PluginInfo& p : plugins) {
    if (p.kind == kind) names.push_back(p.name);
  }
  std::string message = "no " + kind_name + " plugin named " + in_quotes(name) + ".";
  if (const auto* left_out = plugin_detail::left_out_plugin(kind, name)) {
    message +=
        " " + in_quotes(name) + " is a " + kind_name +
        " plugin Trellis ships, but this build left it out: " + std::string(left_out->reason) + ".";
  } else if (std::string guess = plugin_detail::closest_name(name, names); !guess.empty()) {
    message += " Did you mean " + in_quotes(guess) + "?";
  }
  message += "\n" + describe_plugins_of_kind(kind, plugins) + describe_search(searched, skipped);
  message +=
      "To use a plugin that is not listed, put the directory holding its .so on "
      "TRELLIS_PLUGIN_PATH or in [plugins] paths.";
  throw PluginError(message);
}

namespace {

// Calls the plugin's factory and ties the object's lifetime to its library: the deleter runs the
// object's destructor (code in the library) first, then drops its reference to the library. The
// caller hands out the object behind its guard (plugin/guarded_*.h).
template <class Object, class Init>
std::shared_ptr<Object> make_object(const PluginInfo& info, const LoadedPlugin& plugin,
                                    std::unique_ptr<Object> (*factory)(const Init&),
                                    const Init& init) {
  std::unique_ptr<Object> made = plugin_detail::plugin_call(
      [&] { return plugin_detail::plugin_label(info) + ": its factory"; },
      [&] { return factory(init); });
  if (!made) {
    throw Error(std::string(plugin_kind_name(info.kind)) + " plugin '" + info.name + "' (" +
                info.file.string() +
                ") returned no object from its factory; the plugin is faulty: report it to its "
                "author");
  }
  return std::shared_ptr<Object>(made.release(),
                                 [library = plugin.library](Object* object) mutable {
                                   delete object;
                                   library.reset();
                                 });
}

// What a guard needs of the plugin: its label, a hold on its library and its ABI minor.
plugin_detail::PluginOwnerPtr owner(const PluginInfo& info, const LoadedPlugin& plugin) {
  return std::make_shared<const plugin_detail::PluginOwner>(plugin_detail::PluginOwner{
      plugin_detail::plugin_label(info), plugin.library, plugin.descriptor->abi.minor});
}

}  // namespace

PluginRegistry::PluginRegistry(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PluginRegistry::PluginRegistry(PluginRegistry&&) noexcept = default;
PluginRegistry& PluginRegistry::operator=(PluginRegistry&&) noexcept = default;
PluginRegistry::~PluginRegistry() = default;

PluginRegistry PluginRegistry::discover(std::vector<PluginSearchDir> search_path) {
  auto impl = std::make_unique<Impl>();
  for (const PluginSearchDir& entry : search_path) impl->discover_entry(entry);
  impl->searched = std::move(search_path);
  return PluginRegistry(std::move(impl));
}

// A moved-from registry answers as an empty one; these accessors cannot throw.
const std::vector<PluginInfo>& PluginRegistry::plugins() const noexcept {
  static const std::vector<PluginInfo> none;
  return impl_ ? impl_->plugins : none;
}

const std::vector<SkippedFile>& PluginRegistry::skipped() const noexcept {
  static const std::vector<SkippedFile> none;
  return impl_ ? impl_->skipped : none;
}

const std::vector<PluginSearchDir>& PluginRegistry::searched() const noexcept {
  static const std::vector<PluginSearchDir> none;
  return impl_ ? impl_->searched : none;
}

const PluginInfo& PluginRegistry::find(PluginKind kind, std::string_view name) const {
  const Impl& impl = Impl::checked(impl_);
  return impl.plugins[impl.find(kind, name)];
}

std::vector<OptionSpec> PluginRegistry::options(PluginKind kind, std::string_view name) const {
  const Impl& impl = Impl::checked(impl_);
  const PluginDescriptor& d = *impl.loaded[impl.find(kind, name)].descriptor;
  if (d.options == nullptr) return {};
  return std::vector<OptionSpec>(d.options, d.options + d.option_count);
}

std::vector<ConfigProblem> PluginRegistry::check(PluginKind kind, std::string_view name,
                                                 const RunQuery& query) const {
  const Impl& impl = Impl::checked(impl_);
  const std::size_t i = impl.find(kind, name);
  const PluginDescriptor& d = *impl.loaded[i].descriptor;
  if (d.check == nullptr) return {};
  const auto where = [&] { return plugin_detail::plugin_label(impl.plugins[i]) + ": its check"; };
  // The contract promises plugins a non-null options table; a run with no table has empty options.
  if (query.options == nullptr) {
    const Options no_options;
    RunQuery with_options = query;
    with_options.options = &no_options;
    return plugin_detail::plugin_call(where, [&] { return d.check(with_options); });
  }
  return plugin_detail::plugin_call(where, [&] { return d.check(query); });
}

namespace {

// describe_cost is an ABI 2.0 field. Every plugin the registry lets through has core's major
// version, 2, so every usable descriptor has it (null when the family describes no cost).
LayerCostFn cost_function(const PluginDescriptor& d) {
  return d.describe_cost;
}

// describe_context_cost is an ABI 2.1 field: read only from plugins whose minor has it.
ContextCostFn context_cost_function(const PluginDescriptor& d) {
  return d.abi.minor >= 1 ? d.describe_context_cost : nullptr;
}

// describe_moe_cost and describe_dispatch_cost are ABI 2.5 fields.
MoeCostFn moe_cost_function(const PluginDescriptor& d) {
  return d.abi.minor >= 5 ? d.describe_moe_cost : nullptr;
}
DispatchCostFn dispatch_cost_function(const PluginDescriptor& d) {
  return d.abi.minor >= 5 ? d.describe_dispatch_cost : nullptr;
}

// Calls the cost function `get` reads from `plugin`'s descriptor `d`, or throws PluginError
// naming the plugin and the missing `field`.
template <typename Info, typename Query, typename Get>
auto call_cost(const Info& plugin, const PluginDescriptor& d, const char* field, Get get,
               const Query& query) {
  const auto cost = get(d);
  if (cost == nullptr) {
    throw PluginError(plugin_detail::plugin_label(plugin) + " does not describe its cost (no " +
                      field + " in its descriptor): trellis-plan cannot predict it");
  }
  const auto where = [&] { return plugin_detail::plugin_label(plugin) + ": its " + field; };
  return plugin_detail::plugin_call(where, [&] { return cost(query); });
}

}  // namespace

bool PluginRegistry::describes_cost(std::string_view name) const {
  const Impl& impl = Impl::checked(impl_);
  return cost_function(*impl.loaded[impl.find(PluginKind::layers, name)].descriptor) != nullptr;
}

LayerCost PluginRegistry::describe_cost(std::string_view name, const LayerCostQuery& query) const {
  const Impl& impl = Impl::checked(impl_);
  const std::size_t i = impl.find(PluginKind::layers, name);
  return call_cost(impl.plugins[i], *impl.loaded[i].descriptor, "describe_cost", &cost_function,
                   query);
}

bool PluginRegistry::recomputes_attention(std::string_view name) const {
  const Impl& impl = Impl::checked(impl_);
  const PluginDescriptor& d = *impl.loaded[impl.find(PluginKind::layers, name)].descriptor;
  // An ABI 2.2 field: read only from plugins whose minor has it.
  return d.abi.minor >= 2 && d.recomputes_attention;
}

bool PluginRegistry::runs_experts(std::string_view name) const {
  const Impl& impl = Impl::checked(impl_);
  const PluginDescriptor& d = *impl.loaded[impl.find(PluginKind::layers, name)].descriptor;
  // An ABI 2.4 field: read only from plugins whose minor has it.
  return d.abi.minor >= 4 && d.runs_experts;
}

bool PluginRegistry::builds_architectures(std::string_view name) const {
  const Impl& impl = Impl::checked(impl_);
  const PluginDescriptor& d = *impl.loaded[impl.find(PluginKind::layers, name)].descriptor;
  // An ABI 2.6 field: read only from plugins whose minor has it.
  return d.abi.minor >= 6 && d.builds_architectures;
}

bool PluginRegistry::describes_context_cost(std::string_view name) const {
  const Impl& impl = Impl::checked(impl_);
  return context_cost_function(*impl.loaded[impl.find(PluginKind::context, name)].descriptor) !=
         nullptr;
}

ContextCost PluginRegistry::describe_context_cost(std::string_view name,
                                                  const ContextCostQuery& query) const {
  const Impl& impl = Impl::checked(impl_);
  const std::size_t i = impl.find(PluginKind::context, name);
  return call_cost(impl.plugins[i], *impl.loaded[i].descriptor, "describe_context_cost",
                   &context_cost_function, query);
}

bool PluginRegistry::describes_moe_cost(std::string_view name) const {
  const Impl& impl = Impl::checked(impl_);
  return runs_experts(name) &&
         moe_cost_function(*impl.loaded[impl.find(PluginKind::layers, name)].descriptor) != nullptr;
}

MoeBlockCost PluginRegistry::describe_moe_cost(std::string_view name,
                                               const MoeCostQuery& query) const {
  const Impl& impl = Impl::checked(impl_);
  const std::size_t i = impl.find(PluginKind::layers, name);
  return call_cost(impl.plugins[i], *impl.loaded[i].descriptor, "describe_moe_cost",
                   &moe_cost_function, query);
}

bool PluginRegistry::describes_dispatch_cost(std::string_view name) const {
  const Impl& impl = Impl::checked(impl_);
  return dispatch_cost_function(*impl.loaded[impl.find(PluginKind::dispatcher, name)].descriptor) !=
         nullptr;
}

DispatchCost PluginRegistry::describe_dispatch_cost(std::string_view name,
                                                    const DispatchCostQuery& query) const {
  const Impl& impl = Impl::checked(impl_);
  const std::size_t i = impl.find(PluginKind::dispatcher, name);
  return call_cost(impl.plugins[i], *impl.loaded[i].descriptor, "describe_dispatch_cost",
                   &dispatch_cost_function, query);
}

std::shared_ptr<Communicator> PluginRegistry::make_comm(std::string_view name,
                                                        const CommInit& init) const {
  const Impl& impl = Impl::checked(impl_);
  const std::size_t i = impl.find(PluginKind::comm, name);
  return plugin_detail::guard_communicator(
      make_object(impl.plugins[i], impl.loaded[i], impl.loaded[i].descriptor->make_comm, init),
      owner(impl.plugins[i], impl.loaded[i]));
}

std::shared_ptr<LayerFamily> PluginRegistry::make_layers(std::string_view name,
                                                         const LayerFamilyInit& init) const {
  const Impl& impl = Impl::checked(impl_);
  const std::size_t i = impl.find(PluginKind::layers, name);
  return plugin_detail::guard_layer_family(
      make_object(impl.plugins[i], impl.loaded[i], impl.loaded[i].descriptor->make_layers, init),
      owner(impl.plugins[i], impl.loaded[i]), impl.loaded[i].descriptor->abi.minor >= 4);
}

std::shared_ptr<Schedule> PluginRegistry::make_schedule(std::string_view name,
                                                        const ScheduleInit& init) const {
  const Impl& impl = Impl::checked(impl_);
  const std::size_t i = impl.find(PluginKind::schedule, name);
  return plugin_detail::guard_schedule(
      make_object(impl.plugins[i], impl.loaded[i], impl.loaded[i].descriptor->make_schedule, init),
      owner(impl.plugins[i], impl.loaded[i]));
}

std::shared_ptr<ContextAttention> PluginRegistry::make_context(std::string_view name,
                                                               const ContextInit& init) const {
  const Impl& impl = Impl::checked(impl_);
  const std::size_t i = impl.find(PluginKind::context, name);
  return plugin_detail::guard_context_attention(
      make_object(impl.plugins[i], impl.loaded[i], impl.loaded[i].descriptor->make_context, init),
      owner(impl.plugins[i], impl.loaded[i]));
}

std::shared_ptr<TokenDispatcher> PluginRegistry::make_dispatcher(std::string_view name,
                                                                 const DispatcherInit& init) const {
  const Impl& impl = Impl::checked(impl_);
  const std::size_t i = impl.find(PluginKind::dispatcher, name);
  return plugin_detail::guard_token_dispatcher(
      make_object(impl.plugins[i], impl.loaded[i], impl.loaded[i].descriptor->make_dispatcher,
                  init),
      owner(impl.plugins[i], impl.loaded[i]));
}

}  // namespace trellis
