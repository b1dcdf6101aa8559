// The plugin descriptor of the 2d layer family.
#include "tp2d_cost.h"
#include "tp2d_family.h"
#include "trellis/plugin.h"

namespace {

const trellis::PluginDescriptor descriptor{
    .abi = trellis::kAbiVersion,
    .kind = trellis::PluginKind::layers,
    .name = "2d",
    .version = "1.0.0",
    .summary =
        "2D tensor parallelism (Optimus, SUMMA) on a q x q grid: activations and every "
        "parameter split in q x q blocks",
    .make_comm = nullptr,
    .make_layers = &trellis::tp2d::make_family,
    .make_schedule = nullptr,
    .check = &trellis::tp2d::check_run,
    .options = nullptr,
    .option_count = 0,
    .describe_cost = &trellis::tp2d::describe_cost,
    .make_context = nullptr,
    .describe_context_cost = nullptr,
    .recomputes_attention = true,
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
