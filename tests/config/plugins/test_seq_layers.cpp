// Test plugin "test-seq": checks like a sequence-parallel family — heads split across the tensor
// group, and the sequence too, outside attention.
#include <string>

#include "trellis/error.h"
#include "trellis/plugin.h"

namespace {

std::unique_ptr<trellis::LayerFamily> make(const trellis::LayerFamilyInit&) {
  throw trellis::Error("test plugin: not for running");
}

std::vector<trellis::ConfigProblem> check(const trellis::RunQuery& query) {
  std::vector<trellis::ConfigProblem> problems;
  const std::string tensor = std::to_string(query.sizes.tensor);
  if (query.dims.heads % query.sizes.tensor != 0) {
    problems.push_back({"parallel.tensor", "heads " + std::to_string(query.dims.heads) +
                                               " do not split over tensor " + tensor +
                                               "; valid: a tensor size dividing the heads"});
  }
  if (query.dims.seq_len % query.sizes.tensor != 0) {
    problems.push_back({"model.seq_len", "seq_len " + std::to_string(query.dims.seq_len) +
                                             " does not split over tensor " + tensor +
                                             " for sequence parallelism; valid: a multiple of " +
                                             tensor});
  }
  return problems;
}

const trellis::PluginDescriptor descriptor{
    .abi = trellis::kAbiVersion,
    .kind = trellis::PluginKind::layers,
    .name = "test-seq",
    .version = "0.0.1",
    .summary = "config tests: checks heads % tensor and seq_len % tensor",
    .make_layers = &make,
    .check = &check,
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
