// Finding and loading plugins.
//
// discover() walks a search path in order. A directory contributes every `*.so` in it that exports
// `trellis_plugin`; other shared libraries there are skipped and listed (skipped()). A file named
// directly must be a plugin. Libraries are inspected (their dynamic symbol table, read from the
// file) before they are loaded, then loaded and their descriptors read.
//
// Problems with one plugin do not stop the others being used: they are reported when a run asks
// for that plugin by name — an ABI mismatch (naming the file and both versions), two files giving
// the same kind and name, a name that exists only under another kind, or a name nobody provides
// (listing what exists and where the search looked).
//
// Objects made through the registry keep their plugin's library loaded until they are destroyed,
// even after the registry is gone.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "trellis/plugin.h"

namespace trellis {

struct PluginSearchDir {
  std::filesystem::path path;
  std::string origin;  // where this entry came from: "TRELLIS_PLUGIN_PATH", "[plugins] paths", ...
};

struct PluginInfo {
  PluginKind kind;
  std::string name;
  std::string version;
  std::string summary;
  AbiVersion abi;
  std::filesystem::path file;
  std::string origin;
  std::string problem;  // empty when usable, else why not (e.g. the ABI mismatch)
  // How the plugin's ranks must be started (PluginDescriptor::launch); `any` when unusable.
  LaunchNeed launch = LaunchNeed::any;
};

struct SkippedFile {
  std::filesystem::path file;
  std::string reason;
};

class PluginRegistry {
 public:
  // Throws PluginError when an entry names a file directly and it is not a loadable plugin.
  // Entries that do not exist are recorded in searched() and ignored.
  static PluginRegistry discover(std::vector<PluginSearchDir> search_path);

  // TRELLIS_PLUGIN_PATH (':'-separated) from `env_value`, then `config_paths` ([plugins] paths),
  // then the plugin directory installed next to libtrellis_sdk.
  static std::vector<PluginSearchDir> search_path(const char* env_value,
                                                  const std::vector<std::string>& config_paths);
  // <directory of libtrellis_sdk>/trellis/plugins
  static std::filesystem::path installed_plugin_dir();

  PluginRegistry(PluginRegistry&&) noexcept;
  PluginRegistry& operator=(PluginRegistry&&) noexcept;
  ~PluginRegistry();

  const std::vector<PluginInfo>& plugins() const noexcept;
  const std::vector<SkippedFile>& skipped() const noexcept;
  const std::vector<PluginSearchDir>& searched() const noexcept;

  // The usable plugin of this kind and name; throws PluginError otherwise (see above).
  const PluginInfo& find(PluginKind kind, std::string_view name) const;
  // The option specs the plugin declares.
  std::vector<OptionSpec> options(PluginKind kind, std::string_view name) const;
  // Runs the plugin's check (no problems when it has none).
  std::vector<ConfigProblem> check(PluginKind kind, std::string_view name,
                                   const RunQuery& query) const;

  // Whether the layers plugin `name` describes its cost (trellis/layer_cost.h), and that cost
  // for `query`; describe_cost throws PluginError for a family that gives none.
  bool describes_cost(std::string_view name) const;
  // Whether the layers plugin `name` can recompute attention's core (selective recomputation:
  // PluginDescriptor::recomputes_attention, ABI 2.2).
  bool recomputes_attention(std::string_view name) const;
  // Whether the layers plugin `name` builds MoE blocks ([model] experts > 0:
  // PluginDescriptor::runs_experts, ABI 2.4).
  bool runs_experts(std::string_view name) const;
  // Whether the layers plugin `name` builds architectures other than GPT-2's ([model] arch and
  // its keys: PluginDescriptor::builds_architectures, ABI 2.6).
  bool builds_architectures(std::string_view name) const;
  LayerCost describe_cost(std::string_view name, const LayerCostQuery& query) const;
  // The same for the context plugin `name` (trellis/context_cost.h).
  bool describes_context_cost(std::string_view name) const;
  ContextCost describe_context_cost(std::string_view name, const ContextCostQuery& query) const;
  // The same for an MoE block of the layers plugin `name` (trellis/moe_cost.h) and for the
  // dispatcher plugin `name` (trellis/dispatch_cost.h), ABI 2.5.
  bool describes_moe_cost(std::string_view name) const;
  MoeBlockCost describe_moe_cost(std::string_view name, const MoeCostQuery& query) const;
  bool describes_dispatch_cost(std::string_view name) const;
  DispatchCost describe_dispatch_cost(std::string_view name, const DispatchCostQuery& query) const;

  std::shared_ptr<Communicator> make_comm(std::string_view name, const CommInit& init) const;
  std::shared_ptr<LayerFamily> make_layers(std::string_view name,
                                           const LayerFamilyInit& init) const;
  std::shared_ptr<Schedule> make_schedule(std::string_view name, const ScheduleInit& init) const;
  std::shared_ptr<ContextAttention> make_context(std::string_view name,
                                                 const ContextInit& init) const;
  std::shared_ptr<TokenDispatcher> make_dispatcher(std::string_view name,
                                                   const DispatcherInit& init) const;

 private:
  struct Impl;
  explicit PluginRegistry(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace trellis
