// Test plugin "test-1d": a layers family that only checks runs, like a Megatron 1D family:
// heads are split across the tensor group, so tensor must divide heads.
#include <string>

#include "trellis/error.h"
#include "trellis/plugin.h"

namespace {

std::unique_ptr<trellis::LayerFamily> make(const trellis::LayerFamilyInit&) {
  throw trellis::Error("test plugin: not for running");
}

std::vector<trellis::ConfigProblem> check(const trellis::RunQuery& query) {
  std::vector<trellis::ConfigProblem> problems;
  if (query.dims.heads % query.sizes.tensor != 0) {
    problems.push_back({"parallel.tensor", "heads " + std::to_string(query.dims.heads) +
                                               " do not split over tensor " +
                                               std::to_string(query.sizes.tensor) +
                                               "; valid: a tensor size dividing the heads"});
  }
  return problems;
}

const trellis::PluginDescriptor descriptor{
    .abi = trellis::kAbiVersion,
    .kind = trellis::PluginKind::layers,
    .name = "test-1d",
    .version = "0.0.1",
    .summary = "config tests: checks heads % tensor",
    .make_layers = &make,
    .check = &check,
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
