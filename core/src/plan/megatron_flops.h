// FLOPs per iteration as Narayanan et al. 2021 count them ("Efficient Large-Scale Language Model
// Training on GPU Clusters Using Megatron-LM", section 5.1, eq. 3), with activation
// recomputation: the transformer layers' forward runs twice (4 forward passes' worth with
// backward), the LM head's once (3):
//
//   F = 96 B s l h^2 (1 + s / (6 h) + V / (16 l h))
//
// B global batch, s sequence length, l layers, h hidden, V vocabulary. Their Table 1 divides F
// by the iteration time and the GPU count; the planner does the same to compare with it.
#pragma once

#include <cstdint>

namespace trellis::plan {

double megatron_iteration_flops(std::int64_t global_batch, std::int64_t seq_len,
                                std::int64_t layers, std::int64_t hidden, std::int64_t vocab);

}  // namespace trellis::plan
