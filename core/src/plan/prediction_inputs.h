// What the memory and the time predictions of one layout share (step_prediction.h composes
// them): the precision, where the ranks land and the links their groups get, the layer
// family's cost, the schedule's plan, and each (virtual) stage's work, parameters and
// activation sizes per microbatch.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "plan/activation_memory.h"
#include "plan/layer_work.h"
#include "plan/moe_work.h"
#include "plan/step_prediction.h"
#include "trellis/layer_cost.h"
#include "trellis/parallel.h"
#include "trellis/pipeline_plan.h"

namespace trellis::plan {

struct StageInputs {
  PassWork work;                   // one microbatch: its blocks, plus embedding / head
  double parameters = 0.0;         // on one tensor rank, experts' excepted
  double expert_parameters = 0.0;  // its MoE blocks' local experts, on one tensor rank
  ChunkActivations activations;
};

struct PredictionInputs {
  Precision precision;
  int microbatches = 1;  // per step, per data rank
  ParallelLayout layout{ParallelSizes{}};
  int rank_devices = 1;
  RankPlacement placement;
  GroupLink tensor_link, data_link, pipeline_link;
  GroupLink context_link;  // the context group (1 rank without context parallelism)
  GroupLink expert_link, expert_data_link;  // expert parallelism's groups (1 rank without)
  GroupLink row_link, column_link;  // a grid family's rows and columns (else the tensor link)
  double flop_rate = 0.0;           // matrix FLOP/s of one rank
  double byte_rate = 0.0;           // element-wise bytes/s of one rank
  LayerCost cost;  // on one rank: its T/c tokens a sequence under context (plan/context_work.h)
  std::optional<ContextCost> context;  // the context plugin's, when context > 1
  std::optional<MoeWork> moe;          // a model with experts: its MoE blocks' cost
  ActivationShape shape;
  std::shared_ptr<const PipelinePlan> own_plan;  // the one-stage plan, when there is no pipeline
  const PipelinePlan* plan = nullptr;            // the request's plan, or own_plan
  bool tied_copy = false;  // the last stage holds its own copy of the token table
  std::vector<StageInputs> stages;
};

// Throws InputError when the request cannot be predicted (see predict()).
PredictionInputs prediction_inputs(const PlanRequest& request, const ClusterSpec& cluster);

}  // namespace trellis::plan
