// Making the family's parameters: each rank holds the whole parameter (no shard), and says so,
// so that initialisation, checkpoints and the optimizer treat it as one tensor held
// `tensor_size` times (the gradient norm counts it once; one rank writes it to a checkpoint).
#pragma once

#include <string>

#include "replicated_context.h"

namespace replicated {

// The initialisation rules of GPT-2 that the family's parameters use.
trellis::ParamInit normal_init(float std);
trellis::ParamInit zeros_init();
trellis::ParamInit ones_init();

// A whole parameter with value and gradient allocated; core's initialiser fills the values.
trellis::Parameter make_replicated_parameter(const ReplicatedContext& ctx, const std::string& name,
                                             const trellis::Shape& shape, bool weight_decay,
                                             trellis::ParamInit init);

}  // namespace replicated
