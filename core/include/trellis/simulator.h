// Runs every rank's action list of a plan together, in simulated time, before any training:
// finds deadlocks (each rank stuck at an action whose dependency never comes) and measures what
// the schedule costs — the bubble and the activations alive on each rank.
//
// Semantics, the same the executor runs by: a rank does its actions in order, one at a time.
// A forward needs its input (the previous stage's forward on this rank, or its RECV_F); a
// backward (B or I) needs its forward and the gradient of its output (the next stage's backward
// on this rank, or its RECV_B); W needs its I. A send needs the compute that produced its data
// and takes no time; a receive blocks the rank until the matching send has happened (plus the
// latency). An activation is alive from the start of its forward to the end of its B (or W).
#pragma once

#include <string>
#include <vector>

#include "trellis/pipeline_plan.h"

namespace trellis {

struct ActionCosts {
  double forward = 1.0;
  double backward = 2.0;         // B
  double backward_input = 1.0;   // I
  double backward_weight = 1.0;  // W
  double latency = 0.0;          // from a send to its receive
};

struct TimedAction {
  Action action;
  double start = 0.0;
  double end = 0.0;
};

struct SimulationResult {
  bool completed = false;
  std::string deadlock;  // when not completed: the stuck actions and what each waits for
  std::vector<std::vector<TimedAction>> timeline;  // per rank, the actions that ran
  double makespan = 0.0;
  std::vector<double> busy;           // per rank, compute time
  std::vector<int> peak_activations;  // per rank, (stage, microbatch) activations alive at once
  // Idle time over compute time, summed over ranks: Megatron's bubble ratio ((p-1)/m for 1F1B).
  double bubble_ratio() const;
  // Idle time over the whole time of every rank.
  double idle_fraction() const;
};

SimulationResult simulate(const PipelinePlan& plan, const ActionCosts& costs = {});
// The same with costs per stage (index = stage: a last stage that also runs the LM head costs
// more); a message into stage s arrives stage_costs[s].latency after its send.
SimulationResult simulate(const PipelinePlan& plan, const std::vector<ActionCosts>& stage_costs);

// The costs the config check and --dry-run simulate with: a backward twice a forward, or an
// input gradient and a weight gradient each the cost of a forward.
inline constexpr ActionCosts kDryRunCosts{1.0, 2.0, 1.0, 1.0, 0.0};

// Throws InputError with the deadlock report (and the plan drawn as a grid) when the plan
// cannot complete.
SimulationResult simulate_or_throw(const PipelinePlan& plan, const ActionCosts& costs = {});

}  // namespace trellis
