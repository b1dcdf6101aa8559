// The seq layer family: Megatron tensor parallelism with sequence parallelism. The layers are the
// shared ones of layers/common over SequenceShards; the hidden states passed between blocks and
// pipeline stages are [B, T/tp, C].
#pragma once

#include <memory>
#include <vector>

#include "trellis/layer.h"

namespace trellis::seqpar {

std::unique_ptr<LayerFamily> make_family(const LayerFamilyInit& init);

// The layouts the family can serve: heads and sequences split evenly across the tensor group.
std::vector<ConfigProblem> check_run(const RunQuery& query);

}  // namespace trellis::seqpar
