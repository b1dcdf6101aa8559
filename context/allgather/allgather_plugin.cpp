// The plugin descriptor of all-gather attention.
#include "allgather_attention.h"
#include "trellis/plugin.h"

namespace {

std::unique_ptr<trellis::ContextAttention> make_allgather(const trellis::ContextInit& init) {
  return std::make_unique<trellis::context::AllGatherAttention>(init);
}

const trellis::PluginDescriptor descriptor{
    .abi = trellis::kAbiVersion,
    .kind = trellis::PluginKind::context,
    .name = "allgather",
    .version = "1.0.0",
    .summary =
        "all-gather attention: every rank gathers the context group's keys and values, and a "
        "reduce-scatter returns their gradients",
    .make_context = &make_allgather,
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
