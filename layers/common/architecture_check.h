// What the 1d and seq families need of a model architecture (ModelArchitecture) at a tensor size:
// each rank holds whole key/value heads and an equal share of the MLP's inner width.
#pragma once

#include <string>
#include <vector>

#include "trellis/config.h"

namespace trellis::layers {

// Problems with `query.arch` for the family named `family` ("1d", "seq") at query.sizes.tensor.
std::vector<ConfigProblem> architecture_problems(const RunQuery& query, const std::string& family);

}  // namespace trellis::layers
