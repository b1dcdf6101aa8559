// The plugin descriptor of the replicated layer family: what Trellis reads from the library.
#include "replicated_cost.h"
#include "replicated_family.h"
#include "trellis/plugin.h"

namespace {

// Designated initializers: fields added to the descriptor in later ABI versions keep their
// defaults here until the family fills them in.
const trellis::PluginDescriptor descriptor{
    .abi = trellis::kAbiVersion,
    .kind = trellis::PluginKind::layers,
    .name = "replicated",
    .version = REPLICATED_VERSION,
    .summary =
        "no tensor parallelism: every tensor rank holds and computes the whole model, "
        "no collectives",
    .make_layers = &replicated::make_replicated_family,
    .check = &replicated::check_replicated_run,
    .describe_cost = &replicated::describe_replicated_cost,
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
