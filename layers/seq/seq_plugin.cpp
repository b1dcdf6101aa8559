// The plugin descriptor of the seq layer family.
#include "seq_cost.h"
#include "seq_family.h"
#include "trellis/plugin.h"

namespace {

const trellis::PluginDescriptor descriptor{
    .abi = trellis::kAbiVersion,
    .kind = trellis::PluginKind::layers,
    .name = "seq",
    .version = "1.0.0",
    .summary =
        "Megatron tensor + sequence parallelism: 1d's linears, LayerNorm and residual stream on "
        "sequence shards, all-gather / reduce-scatter instead of all-reduce",
    .make_comm = nullptr,
    .make_layers = &trellis::seqpar::make_family,
    .make_schedule = nullptr,
    .check = &trellis::seqpar::check_run,
    .options = nullptr,
    .option_count = 0,
    .describe_cost = &trellis::seqpar::describe_cost,
    .make_context = nullptr,
    .describe_context_cost = nullptr,
    .recomputes_attention = true,
    .runs_experts = true,
    .describe_moe_cost = &trellis::seqpar::describe_moe_cost,
    .describe_dispatch_cost = nullptr,
    .builds_architectures = true,
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
