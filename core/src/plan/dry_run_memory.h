// trellis-train --dry-run's "Memory (predicted by trellis-plan's model)" section: each pipeline
// rank's predicted peak (parameters, gradients and optimizer state; activations; total) under
// the run's recomputation, and whether it fits [device] memory_limit_mb when that is set.
#pragma once

#include <string>

#include "config/resolved_run.h"

namespace trellis::plan {

// The section, ending in a newline. A layer family (or context plugin) that does not describe
// its cost gets one line saying so: the run itself is unaffected.
std::string format_predicted_memory(const ResolvedRun& run);

}  // namespace trellis::plan
