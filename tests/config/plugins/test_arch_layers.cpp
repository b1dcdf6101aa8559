// Test plugin "test-arch": a layers family that builds architectures other than GPT-2's and runs
// experts (its descriptor says so, ABI 2.6), for the checks of [model] arch: it checks nothing.
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
    .abi = trellis::kAbiVersion,
    .kind = trellis::PluginKind::layers,
    .name = "test-arch",
    .version = "0.0.1",
    .summary = "config tests: builds every architecture, runs experts",
    .make_layers = &make,
    .check = &check,
    .runs_experts = true,
    .builds_architectures = true,
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
