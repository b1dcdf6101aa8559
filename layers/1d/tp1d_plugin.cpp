// The plugin descriptor of the 1d layer family.
#include "tp1d_cost.h"
#include "tp1d_family.h"
#include "trellis/plugin.h"

namespace {

const trellis::PluginDescriptor descriptor{
    .abi = trellis::kAbiVersion,
    .kind = trellis::PluginKind::layers,
    .name = "1d",
    .version = "1.0.0",
    .summary =
        "Megatron tensor parallelism: column/row-parallel linears, heads split, "
        "vocab-parallel embedding and loss",
    .make_comm = nullptr,
    .make_layers = &trellis::tp1d::make_family,
    .make_schedule = nullptr,
    .check = &trellis::tp1d::check_run,
    .options = nullptr,
    .option_count = 0,
    .describe_cost = &trellis::tp1d::describe_cost,
    .make_context = nullptr,
    .describe_context_cost = nullptr,
    .recomputes_attention = true,
    .runs_experts = true,
    .describe_moe_cost = &trellis::tp1d::describe_moe_cost,
    .describe_dispatch_cost = nullptr,
    .builds_architectures = true,
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
