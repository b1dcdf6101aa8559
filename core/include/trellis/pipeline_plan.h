// A pipeline schedule made concrete for one run: every rank's actions, with the sends and
// receives between stages, and which rank holds each stage.
//
// build_plan() asks the schedule for every rank's list, adds the communication when the schedule
// gives compute actions only (lower_communication), and checks the lists statically: each stage
// runs on its rank, each (stage, microbatch) has exactly one forward and one backward (whole, or
// split into I and W), every send has its receive. The simulator (simulator.h) then runs them
// together to find deadlocks and to measure the bubble.
#pragma once

#include <string>
#include <vector>

#include "trellis/schedule.h"

namespace trellis {

struct PipelinePlan {
  int pipeline_size = 1;
  int microbatches = 1;
  int virtual_stages = 1;
  std::vector<int> stage_rank;                // rank of each of the pipeline x virtual stages
  std::vector<std::vector<Action>> per_rank;  // each rank's actions, communication included

  int stages() const noexcept { return static_cast<int>(stage_rank.size()); }
  // True when backward is split into I and W somewhere in the plan.
  bool splits_backward() const;
};

// Throws InputError listing every problem (with the offending actions in text form).
PipelinePlan build_plan(const Schedule& schedule, const ScheduleQuery& shape);
// The same from lists a user wrote (a CSV file): stage s runs on rank s % pipeline_size unless
// the lists say otherwise by where the stage's actions appear.
PipelinePlan plan_from_lists(std::vector<std::vector<Action>> per_rank, int microbatches,
                             int virtual_stages);

// The order of one stage on one rank when there is no pipeline: forward and backward of each
// microbatch in turn.
PipelinePlan single_stage_plan(int microbatches);

// Adds SEND_F after every forward whose output goes to another rank and RECV_F right before the
// forward that needs it; the same for gradients (SEND_B after B or I, RECV_B before B or I).
std::vector<std::vector<Action>> lower_communication(
    const std::vector<std::vector<Action>>& compute, const std::vector<int>& stage_rank);

// The static checks; returns one line per problem (empty when none).
std::vector<std::string> check_plan(const PipelinePlan& plan);

}  // namespace trellis
