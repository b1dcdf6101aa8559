// The expert groups' backend must have the operation the dispatcher sends tokens with. The one
// Communicator operation newer than plugin ABI 2.0 is all_to_all_v (2.3), which the shipped
// "alltoall" dispatcher exchanges every token by; on a backend built for an older ABI, core
// answers it with UnsupportedError, in the run's first step. Checked here instead, so that such a
// run stops before any rank starts. (A dispatcher of one's own that calls all_to_all_v still
// meets the UnsupportedError: a dispatcher plugin does not declare the operations it calls.)
#include <algorithm>
#include <string>

#include "config/comm_groups.h"
#include "config/config_check.h"
#include "trellis/plugin_registry.h"

namespace trellis {

namespace {

constexpr AbiVersion kAllToAllV{2, 3};

bool before(AbiVersion abi, AbiVersion version) {
  return abi.major < version.major || (abi.major == version.major && abi.minor < version.minor);
}

const PluginUse* used_plugin(const ResolvedRun& run, PluginKind kind, const std::string& name) {
  auto use = std::find_if(run.plugins.begin(), run.plugins.end(), [&](const PluginUse& u) {
    return u.kind == kind && u.used && u.info && u.name == name;
  });
  return use == run.plugins.end() ? nullptr : &*use;
}

// The comm backends found that have all_to_all_v, as a config would name them.
std::string backends_with_all_to_all_v(const PluginRegistry& registry) {
  std::string names;
  for (const PluginInfo& info : registry.plugins()) {
    if (info.kind != PluginKind::comm || !info.problem.empty() || before(info.abi, kAllToAllV))
      continue;
    names += (names.empty() ? "\"" : ", \"") + info.name + "\"";
  }
  return names.empty() ? "none found" : names;
}

}  // namespace

void check_expert_backend(CheckContext& ctx, const ResolvedRun& run) {
  const RunConfig& c = ctx.config();
  if (!run.registry || !ctx.valid({"comm.backend", "comm.groups.expert"})) return;
  const PluginUse* dispatcher = used_plugin(run, PluginKind::dispatcher, "alltoall");
  if (dispatcher == nullptr) return;  // no expert groups, or another dispatcher
  const std::string backend = comm_group_backend(c.comm, CommDimension::expert, run.layout,
                                                 static_cast<int>(run.moe.expert_parallel));
  const PluginUse* comm = used_plugin(run, PluginKind::comm, backend);
  if (comm == nullptr || !before(comm->info->abi, kAllToAllV)) return;
  const bool grouped = comm_group_entry(c.comm.groups, CommDimension::expert) == backend;
  const std::string key = grouped ? "comm.groups.expert" : "comm.backend";
  ctx.problem(
      key, "comm backend '" + backend + "' was built against plugin ABI " +
               std::to_string(comm->info->abi.major) + "." + std::to_string(comm->info->abi.minor) +
               ", before Communicator::all_to_all_v (2.3), which the expert dispatcher "
               "\"alltoall\" (parallel.expert_dispatcher) sends the expert groups' tokens "
               "with; valid: [comm.groups] expert = a backend built for ABI 2.3 or later (" +
               backends_with_all_to_all_v(*run.registry) +
               "), or parallel.expert_dispatcher = \"allgather\"");
}

}  // namespace trellis
