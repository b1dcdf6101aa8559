// A loaded run (config/config_loader.h) as a planner request: the model, batch, layout and
// settings trellis-train would use, and the schedule's plan the config check already built.
#pragma once

#include <optional>

#include "config/resolved_run.h"
#include "plan/step_prediction.h"

namespace trellis::plan {

// The request points into `run` (its pipeline plan and plugin registry): keep the run alive while
// using it. The recomputation is the run's ([train] recompute, recompute_method,
// recompute_num_layers) unless `recompute` says another. Throws InputError for a layer family,
// or (context > 1) a context plugin, that does not describe its cost.
PlanRequest request_from_run(const ResolvedRun& run, ActivationModel activation_model,
                             const std::optional<RecomputeSettings>& recompute = std::nullopt);

}  // namespace trellis::plan
