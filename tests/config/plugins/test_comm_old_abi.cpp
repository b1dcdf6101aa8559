// Test plugin "test-comm-abi2": a comm backend built for plugin ABI 2.2, before
// Communicator::all_to_all_v (2.3): the config check refuses it for the alltoall dispatcher's
// expert groups.
#include "trellis/error.h"
#include "trellis/plugin.h"

namespace {

std::unique_ptr<trellis::Communicator> make(const trellis::CommInit&) {
  throw trellis::Error("test plugin: not for running");
}

const trellis::PluginDescriptor descriptor{
    .abi = {2, 2},
    .kind = trellis::PluginKind::comm,
    .name = "test-comm-abi2",
    .version = "0.0.1",
    .summary = "config tests: a backend without all_to_all_v",
    .make_comm = &make,
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
