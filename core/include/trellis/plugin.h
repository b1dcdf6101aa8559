// Writing a plugin.
//
// A plugin is a shared library that exports one descriptor under the Boost.DLL alias
// `trellis_plugin`. Core finds plugins on TRELLIS_PLUGIN_PATH, [plugins] paths and the install's
// plugin directory, checks the descriptor, and calls its factory when a run names the plugin.
//
//   #include <trellis/plugin.h>
//   namespace {
//   std::unique_ptr<trellis::Schedule> make(const trellis::ScheduleInit&) { ... }
//   const trellis::PluginDescriptor descriptor{
//       .abi = trellis::kAbiVersion, .kind = trellis::PluginKind::schedule,
//       .name = "my-schedule", .version = "1.0.0", .summary = "one line for trellis-plugins",
//       .make_schedule = &make};
//   }  // namespace
//   TRELLIS_PLUGIN(descriptor)
//
// Build it with trellis_add_plugin() from find_package(Trellis). A layers plugin may also set
// .describe_cost (trellis/layer_cost.h), and a context plugin .describe_context_cost
// (trellis/context_cost.h), so that trellis-plan can predict and search their layouts.
//
// ABI rules. The leading fields, abi through summary, never change, so any Trellis can name an
// incompatible plugin and both versions in its error. A plugin loads when its ABI major equals
// core's and its minor is not newer. Minor versions only append fields to the descriptor and to
// the *Init structs, and virtual functions at the end of the classes core implements for plugins
// to call (Kernels) and of those plugins implement for core to call (Communicator: core calls an
// appended one only on plugins whose minor includes it); core reads an appended field only from
// plugins whose minor includes it, and a plugin built against a newer minor, which may call
// functions an older core lacks, is refused.
//   1.0  first release
//   1.1  Kernels: LayerNorm over channels split across ranks (layernorm_shard_*)
//   2.0  Communicator: public operations are non-virtual, check their arguments once in core and
//        call the backend's protected do_* virtuals (device(), max_tag(), moves(), reduces() say
//        what it takes); trellis/reduce.h, the CPU backends' shared reduction;
//        PluginDescriptor::launch, what a plugin needs from the launcher;
//        layers: describe_cost (trellis/layer_cost.h), what trellis-plan predicts a family from
//   2.1  context parallelism: plugin kind `context` (make_context, trellis/context_attention.h);
//        Kernels: attention over blocks of tokens (attention_block_*, copy_columns);
//        LayerFamilyInit: context, context_attention;
//        context plugins: describe_context_cost (trellis/context_cost.h), what trellis-plan
//        predicts a context mode from
//   2.2  selective recomputation: layers plugins' recomputes_attention, LayerFamilyInit's
//        recompute_attention and recompute_trace (RecomputeTrace); Allocator::set_limit and
//        MemoryLimitError
//   2.3  Communicator: all_to_all_v (counts per peer) and its do_all_to_all_v, appended after
//        the older virtuals; core answers all_to_all_v on an older backend with UnsupportedError
//   2.4  mixture of experts: MoeSettings in RunQuery and LayerFamilyInit, Microbatch's
//        aux_loss_scale, layers plugins' runs_experts, LayerFamily::take_moe_statistics
//        (MoeStatistics); expert parallelism: plugin kind `dispatcher` (make_dispatcher,
//        trellis/token_dispatcher.h), LayerFamilyInit's expert_rank and dispatcher,
//        Parameter::expert
//   2.5  trellis-plan models mixture of experts: layers plugins' describe_moe_cost
//        (trellis/moe_cost.h), dispatcher plugins' describe_dispatch_cost
//        (trellis/dispatch_cost.h)
//   2.6  model architectures: ModelArchitecture in RunQuery and LayerFamilyInit, layers
//        plugins' builds_architectures; Kernels: RMSNorm, SwiGLU and rotary positions
//        (rmsnorm_*, swiglu_*, rope)
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#ifndef BOOST_DLL_USE_STD_FS
#define BOOST_DLL_USE_STD_FS 1
#endif
#include <boost/dll/alias.hpp>

#include "trellis/comm.h"
#include "trellis/config.h"
#include "trellis/context_attention.h"
#include "trellis/context_cost.h"
#include "trellis/dispatch_cost.h"
#include "trellis/layer.h"
#include "trellis/layer_cost.h"
#include "trellis/moe_cost.h"
#include "trellis/schedule.h"
#include "trellis/token_dispatcher.h"

namespace trellis {

struct AbiVersion {
  std::uint32_t major;
  std::uint32_t minor;
};
inline constexpr AbiVersion kAbiVersion{2, 6};

enum class PluginKind : std::uint32_t {
  comm = 1,
  layers = 2,
  schedule = 3,
  context = 4,
  dispatcher = 5  // ABI 2.4
};
// "comm", "layers", "schedule", "context", "dispatcher"
const char* plugin_kind_name(PluginKind kind) noexcept;

// What a plugin needs from whoever starts the ranks (trellis-train's own launch, trellis-run,
// mpirun, srun). Core chooses how to start a run's ranks from the descriptor of the run's backend.
enum class LaunchNeed : std::uint32_t {
  any = 0,     // any launcher that sets the rank environment, or none for one rank
  mpirun = 1,  // started by mpirun: MPI_Init finds its peers through mpirun's environment
};
const char* launch_need_name(LaunchNeed need) noexcept;  // "any", "mpirun"

// The version of this Trellis core library, e.g. "0.1.0".
const char* core_version() noexcept;

using CommFactory = std::unique_ptr<Communicator> (*)(const CommInit&);
using LayerFamilyFactory = std::unique_ptr<LayerFamily> (*)(const LayerFamilyInit&);
using ScheduleFactory = std::unique_ptr<Schedule> (*)(const ScheduleInit&);
using ContextFactory = std::unique_ptr<ContextAttention> (*)(const ContextInit&);
using DispatcherFactory = std::unique_ptr<TokenDispatcher> (*)(const DispatcherInit&);
// Rejects runs the plugin cannot serve, before any rank starts (e.g. a 2D family when tensor is
// not a square). Returns no problems when the run is fine.
using RunCheck = std::vector<ConfigProblem> (*)(const RunQuery&);
// A layer family's cost on one tensor rank for one microbatch (trellis/layer_cost.h). Called for
// layouts the family's check accepted.
using LayerCostFn = LayerCost (*)(const LayerCostQuery&);
// A context plugin's attention cost on one rank for one block and microbatch
// (trellis/context_cost.h). Called for layouts the plugin's check accepted.
using ContextCostFn = ContextCost (*)(const ContextCostQuery&);
// What an MoE block of a family costs (trellis/moe_cost.h), and a token dispatcher
// (trellis/dispatch_cost.h).
using MoeCostFn = MoeBlockCost (*)(const MoeCostQuery&);
using DispatchCostFn = DispatchCost (*)(const DispatchCostQuery&);

struct PluginDescriptor {
  // ---- frozen: the same in every ABI version ----
  AbiVersion abi;
  PluginKind kind;
  const char* name;     // what a config names, unique per kind: lower-case, digits, '_', '-'
  const char* version;  // the plugin's own version
  const char* summary;  // one line
  // ---- ABI 1.0 ----
  // Exactly one factory, the one matching `kind`.
  CommFactory make_comm = nullptr;
  LayerFamilyFactory make_layers = nullptr;
  ScheduleFactory make_schedule = nullptr;
  RunCheck check = nullptr;  // optional
  // The keys the plugin accepts in its config table ([comm.<name>] for backends).
  const OptionSpec* options = nullptr;
  std::size_t option_count = 0;
  // ---- ABI 2.0 ----
  // comm plugins: how their ranks must be started; core launches a run's ranks accordingly.
  LaunchNeed launch = LaunchNeed::any;
  // Layers plugins: what the family costs, for trellis-plan (optional; without it the family
  // trains but cannot be planned).
  LayerCostFn describe_cost = nullptr;
  // ---- ABI 2.1 ----
  // Context plugins: the factory (their one factory; make_comm, make_layers and make_schedule
  // stay null).
  ContextFactory make_context = nullptr;
  // Context plugins: what the mode costs, for trellis-plan (optional; without it the mode trains
  // but cannot be planned).
  ContextCostFn describe_context_cost = nullptr;
  // ---- ABI 2.2 ----
  // Layers plugins: the family honours LayerFamilyInit::recompute_attention, so runs may set
  // [train] recompute = "selective" (core refuses it for a family without). Full recomputation
  // needs nothing of a family: core runs it over the blocks' forward and backward.
  bool recomputes_attention = false;
  // ---- ABI 2.4 ----
  // Layers plugins: the family builds MoE blocks from LayerFamilyInit::moe, so runs may set
  // [model] experts > 0 (core refuses it for a family without).
  bool runs_experts = false;
  // Dispatcher plugins: the factory (their one factory).
  DispatcherFactory make_dispatcher = nullptr;
  // ---- ABI 2.5 ----
  // Layers plugins that run experts: what an MoE block costs, for trellis-plan (optional;
  // without it MoE runs of the family train but cannot be planned).
  MoeCostFn describe_moe_cost = nullptr;
  // Dispatcher plugins: what dispatching costs, for trellis-plan (optional, likewise).
  DispatchCostFn describe_dispatch_cost = nullptr;
  // ---- ABI 2.6 ----
  // Layers plugins: the family builds the blocks LayerFamilyInit::arch describes (and refuses in
  // its check those it cannot); core refuses any architecture but GPT-2's for a family without.
  bool builds_architectures = false;
};

}  // namespace trellis

// Exports `descriptor` (a PluginDescriptor object) as this library's `trellis_plugin`.
#define TRELLIS_PLUGIN(descriptor) BOOST_DLL_ALIAS(descriptor, trellis_plugin)
