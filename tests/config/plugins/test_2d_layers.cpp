// Test plugin "test-2d": checks like a 2D (SUMMA) family — the tensor group is a q x q grid and
// heads split over a grid dimension.
#include <cmath>
#include <string>

#include "trellis/error.h"
#include "trellis/plugin.h"

namespace {

std::unique_ptr<trellis::LayerFamily> make(const trellis::LayerFamilyInit&) {
  throw trellis::Error("test plugin: not for running");
}

std::vector<trellis::ConfigProblem> check(const trellis::RunQuery& query) {
  std::vector<trellis::ConfigProblem> problems;
  const int tensor = query.sizes.tensor;
  if (!trellis::TensorGrid::is_square(tensor)) {
    problems.push_back({"parallel.tensor",
                        "2D tensor parallelism needs a square tensor size "
                        "q x q; " +
                            std::to_string(tensor) + " is not one; valid: 1, 4, 9, 16, ..."});
    return problems;
  }
  const int q = trellis::TensorGrid(tensor).q();
  if (query.dims.heads % q != 0) {
    problems.push_back(
        {"model.heads", "heads " + std::to_string(query.dims.heads) +
                            " do not split over the grid side q = " + std::to_string(q) +
                            "; valid: a multiple of " + std::to_string(q)});
  }
  return problems;
}

const trellis::PluginDescriptor descriptor{
    .abi = trellis::kAbiVersion,
    .kind = trellis::PluginKind::layers,
    .name = "test-2d",
    .version = "0.0.1",
    .summary = "config tests: checks tensor = q*q and heads % q",
    .make_layers = &make,
    .check = &check,
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
