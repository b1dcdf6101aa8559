// The activation memory of each pipeline rank over a step, from the order of its actions: a
// forward adds its chunk's activations (higher for a moment while it runs), an input gradient
// trades them for what the weight gradient needs, a whole backward or a weight gradient frees them.
// A rank runs its actions one at a time, so walking each list in order gives the exact high point
// under the per-chunk sizes of activation_memory.h.
#pragma once

#include <vector>

#include "plan/activation_memory.h"
#include "trellis/pipeline_plan.h"

namespace trellis::plan {

struct ActivationPeak {
  double bytes = 0.0;  // highest activation bytes
  int alive = 0;       // most (stage, microbatch) activations held at once
};

// `per_stage[s]` are stage s's sizes; one result per pipeline rank (zero for the ranks not in
// `ranks` when it is given: walking every rank of a deep pipeline is what a search can skip).
std::vector<ActivationPeak> activation_peaks(const PipelinePlan& plan,
                                             const std::vector<ChunkActivations>& per_stage,
                                             const std::vector<int>& ranks = {});

}  // namespace trellis::plan
