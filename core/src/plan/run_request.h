// A loaded run (config/config_loader.h) as a planner request: the model, batch, layout and
// settings trellis-train would use, and the schedule's plan the config check already built.
#pragma once

#include "config/resolved_run.h"
#include "plan/step_prediction.h"

namespace trellis::plan {

// The request points into `run` (its pipeline plan and plugin registry): keep the run alive while
// using it. Throws InputError for a layer family, or (context > 1) a context plugin, that does not
// describe its cost.
PlanRequest request_from_run(const ResolvedRun& run, Recompute recompute,
                             ActivationModel activation_model);

}  // namespace trellis::plan
