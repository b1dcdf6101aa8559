// The 1d layer family: Megatron tensor parallelism over a tensor group of any size (at size 1,
// the plain single-rank GPT-2). The layers are the shared ones of layers/common over
// ReplicatedTokens.
#pragma once

#include <memory>
#include <vector>

#include "trellis/layer.h"

namespace trellis::tp1d {

std::unique_ptr<LayerFamily> make_family(const LayerFamilyInit& init);

// The layouts the family can serve: heads split evenly across the tensor group.
std::vector<ConfigProblem> check_run(const RunQuery& query);

}  // namespace trellis::tp1d
