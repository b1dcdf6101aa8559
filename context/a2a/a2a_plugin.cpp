// The plugin descriptor of all-to-all (Ulysses) attention.
#include "a2a_attention.h"
#include "a2a_check.h"
#include "trellis/plugin.h"

namespace {

std::unique_ptr<trellis::ContextAttention> make_a2a(const trellis::ContextInit& init) {
  return std::make_unique<trellis::context::AllToAllAttention>(init);
}

const trellis::PluginDescriptor descriptor{
    .abi = trellis::kAbiVersion,
    .kind = trellis::PluginKind::context,
    .name = "a2a",
    .version = "1.0.0",
    .summary =
        "all-to-all (Ulysses) attention: sequence shards traded for head shards, whole "
        "sequences attended per head group",
    .check = &trellis::context::check_a2a_run,
    .make_context = &make_a2a,
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
