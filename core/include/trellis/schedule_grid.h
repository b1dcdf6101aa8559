// Pictures of a pipeline plan for people: each rank's action list (with stuck actions marked, for
// deadlock reports), and a simulated timeline as a grid of ranks x time.
#pragma once

#include <string>
#include <vector>

#include "trellis/pipeline_plan.h"
#include "trellis/simulator.h"

namespace trellis {

// One line per rank: its actions in order; the action at stuck[r] is shown as [action].
// Pass an empty `stuck` to mark nothing.
std::string draw_action_lists(const PipelinePlan& plan, const std::vector<std::size_t>& stuck);

// One line per rank, one column per time unit (the forward cost), compute actions only:
//   rank 0 | 0F0 0F1 0F2 0B0 0B0 ...
// Idle time shows as '.'. Long timelines are cut after `max_columns` columns.
std::string draw_timeline(const SimulationResult& result, const ActionCosts& costs,
                          int max_columns = 48);

}  // namespace trellis
