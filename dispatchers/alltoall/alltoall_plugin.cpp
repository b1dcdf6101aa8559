// The plugin descriptor of all-to-all token dispatch.
#include "alltoall_cost.h"
#include "alltoall_dispatcher.h"
#include "trellis/plugin.h"

namespace {

std::unique_ptr<trellis::TokenDispatcher> make_alltoall(const trellis::DispatcherInit& init) {
  return std::make_unique<trellis::dispatch::AllToAllDispatcher>(init);
}

const trellis::PluginDescriptor descriptor{
    .abi = trellis::kAbiVersion,
    .kind = trellis::PluginKind::dispatcher,
    .name = "alltoall",
    .version = "1.0.0",
    .summary =
        "all-to-all token dispatch: each expert's rows go to its rank with one "
        "all_to_all_v (a count per peer), and come back the same way",
    .make_dispatcher = &make_alltoall,
    .describe_dispatch_cost = &trellis::dispatch::describe_alltoall_cost,
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
