// The plugin descriptor of all-gather token dispatch.
#include "allgather_cost.h"
#include "allgather_dispatcher.h"
#include "trellis/plugin.h"

namespace {

std::unique_ptr<trellis::TokenDispatcher> make_allgather(const trellis::DispatcherInit& init) {
  return std::make_unique<trellis::dispatch::AllGatherDispatcher>(init);
}

const trellis::PluginDescriptor descriptor{
    .abi = trellis::kAbiVersion,
    .kind = trellis::PluginKind::dispatcher,
    .name = "allgather",
    .version = "1.0.0",
    .summary =
        "all-gather token dispatch: every rank gathers the expert group's rows and keeps "
        "its experts' ones; a reduce-scatter brings the outputs back",
    .make_dispatcher = &make_allgather,
    .describe_dispatch_cost = &trellis::dispatch::describe_allgather_cost,
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
