// Test plugin "test-arch-abi5": a layers family whose descriptor sets builds_architectures but
// says ABI 2.5, which has no such field: core must not read it, and refuses any architecture
// but GPT-2's for it.
#include "trellis/error.h"
#include "trellis/plugin.h"

namespace {

std::unique_ptr<trellis::LayerFamily> make(const trellis::LayerFamilyInit&) {
  throw trellis::Error("test plugin: not for running");
}

std::vector<trellis::ConfigProblem> check(const trellis::RunQuery&) {
  return {};
}

const trellis::PluginDescriptor descriptor{
    .abi = {2, 5},
    .kind = trellis::PluginKind::layers,
    .name = "test-arch-abi5",
    .version = "0.0.1",
    .summary = "config tests: builds_architectures under an ABI that lacks it",
    .make_layers = &make,
    .check = &check,
    .builds_architectures = true,
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
