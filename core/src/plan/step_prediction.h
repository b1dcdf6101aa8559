// The planner's prediction for one layout on one cluster: memory per device, broken down, and
// the time of an optimizer step, broken down, with the throughput figures trellis-train reports.
//
// predict() composes two halves over shared inputs (prediction_inputs.h: the family's cost from
// its plugin, family_cost.h; each stage's work, parameters and activation sizes):
//
// Memory (memory_prediction.h; per rank, the figure to compare with peak_mem_bytes is the
// largest over ranks):
//   parameters, gradients, optimizer state   the family's parameter counts x precision.h's bytes
//   activations                              activation_memory.h's per-chunk sizes, walked over
//                                            the rank's actions (activation_timeline.h)
//   other                                    the step's token and target ids (4 bytes each) on
//                                            the ranks holding the first or the last stage
//
// Time (time_prediction.h):
//   1. Each (virtual) stage's forward, input-gradient and weight-gradient cost per microbatch:
//      the family's FLOPs (layer_work.h adds recomputation) at peak x compute_efficiency,
//      element-wise bytes at memory bandwidth x memory_efficiency, plus the tensor-parallel
//      collectives (collective_cost.h) over the link their group lands on (group_link.h).
//      Under context parallelism (context_work.h) the family's cost is a rank's T/c tokens with
//      the context plugin's share of attention, and its collectives go over the context group's
//      link: those that overlap attention add only what outlasts the attention's compute.
//   2. The pipeline schedule's actions run in the simulator (trellis/simulator.h) with those
//      costs and a send/receive latency of alpha + bytes / bandwidth between pipeline ranks: the
//      makespan includes the bubble.
//   3. Each stage's data-parallel reduction (over data x context) starts when its last backward
//   ends on its rank, the
//      rank's reductions one after another (Trellis starts them as a stage's backward finishes,
//      overlapping the stages still in backward); then the tied token table is summed between
//      the pipeline's ends, the loss, gradient norm and peak memory are all-reduced, the
//      optimizer streams its state, and with zero = 1 the parameters are all-gathered.
//   4. More ranks than devices on a node (a CPU run of 4 ranks on 2 cores, oversubscription k):
//      the ranks take turns on the devices while they work, so a rank's work (compute, tensor
//      collectives, optimizer) takes k times as long; its tensor collectives also find their
//      peer descheduled, with chance 1 - 1/k, and then poll for it as the mpi backend does
//      (200 us + 4 ns a byte before napping), which takes turns too: k (1 - 1/k) = k - 1 times
//      the polling. A rank idle in the pipeline bubble (a long wait, where the backend naps)
//      leaves its device to the others, so the bubble is not stretched.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "plan/activation_memory.h"
#include "plan/cluster_spec.h"
#include "plan/group_link.h"
#include "plan/layout_choice.h"
#include "plan/precision.h"
#include "plan/rank_placement.h"
#include "trellis/config.h"
#include "trellis/pipeline_plan.h"
#include "trellis/plugin_registry.h"

namespace trellis::plan {

struct PlanRequest {
  ModelDims dims;          // padded_vocab as the layout pads it
  ModelArchitecture arch;  // what the blocks compute; kv_heads 0: GPT-2's (architecture())
  // Mixture of experts (experts 0: dense); expert_parallel is not read (layout.expert is).
  MoeSettings moe;
  std::int64_t global_batch = 1;
  bool grad_clip = true;
  LayoutChoice layout;
  // Where the layer family (layout.tensor_mode) is found: its plugin describes its costs. Must
  // outlive the request's use.
  const PluginRegistry* registry = nullptr;
  // The schedule made concrete for this layout when pipeline > 1; with none, one stage runs F
  // and B of each microbatch in turn (what the trainer does without a pipeline).
  const PipelinePlan* plan = nullptr;
  ActivationModel activation_model = ActivationModel::trellis;
  // Predict memory only (no simulation of the step): what a search does first, to drop the
  // layouts that do not fit. A pipeline deeper than 8 then walks only its first rank (the most
  // activations in flight, the embedding) and the last stage's (the head and its logits); the
  // ranks between hold less of both.
  bool memory_only = false;
  // The run's own precision where its config fixes one (a cuda run of Trellis); empty: the
  // cluster's train_dtype, as Megatron-LM would train in it.
  std::optional<Precision> precision;

  // `arch`, or GPT-2's when it was left unset.
  ModelArchitecture architecture() const {
    return arch.kv_heads > 0 ? arch : ModelArchitecture::gpt2(dims.hidden, dims.heads);
  }
};

struct MemoryBreakdown {
  int pipeline_rank = 0;
  double parameters = 0.0;
  double gradients = 0.0;
  double optimizer = 0.0;
  double activations = 0.0;
  double other = 0.0;
  int alive = 0;                        // most (stage, microbatch) activations held at once
  double parameter_count = 0.0;         // parameters held by this rank
  double expert_parameter_count = 0.0;  // of which experts' (sharded over expert-data by ZeRO-1)
  double total() const noexcept { return parameters + gradients + optimizer + activations + other; }
};

struct TimeBreakdown {
  double forward = 0.0;              // per microbatch, the busiest stage: one forward
  double backward = 0.0;             // and one whole backward
  double compute = 0.0;              // the busiest rank's compute in a step (matrix + element-wise)
  double tensor_comm = 0.0;          // the busiest rank's tensor-parallel collectives in a step
  double context_comm = 0.0;         // its context-parallel collectives not hidden by attention
  double context_comm_hidden = 0.0;  // and those running while attention computes
  double expert_comm = 0.0;          // its dispatchers' collectives over the expert group
  double pipeline_makespan = 0.0;    // first forward to last backward (the simulated schedule)
  double bubble = 0.0;               // the makespan beyond the busiest rank's work
  double pipeline_message = 0.0;     // one send/receive between pipeline ranks
  double data_comm = 0.0;            // one rank's data-parallel reductions (all its stages), over
                                     // data x context (expert parameters over expert-data)
  double data_comm_exposed = 0.0;    // the part not hidden behind backward
  double optimizer = 0.0;            // zeroing, norm, clipping, AdamW; zero = 1's all-gather
  double synchronisation = 0.0;      // tied-table sum, loss / norm / memory all-reduces
  double shared_devices = 0.0;       // extra time from ranks sharing devices (step 4 above)
  double step = 0.0;
};

struct Prediction {
  LayoutChoice layout;
  Precision precision;
  RankPlacement placement;
  GroupLink tensor_link, data_link, pipeline_link;  // data_link: the data x context groups
  GroupLink context_link;
  // Expert parallelism: the expert groups (dispatch) and expert-data groups (expert gradients);
  // 1 rank each without.
  GroupLink expert_link, expert_data_link;
  // The model's parameters: all of them, and those a token uses (a mixture of experts: its
  // router and top_k experts a block; equal for a dense model).
  double model_parameters = 0.0;
  double active_parameters = 0.0;
  int microbatches = 1;                     // per step, per data rank
  std::vector<MemoryBreakdown> memory;      // per pipeline rank (those walked, see memory_only)
  MemoryBreakdown peak;                     // the rank with the most memory
  double per_layer_activation = 0.0;        // one layer, one microbatch (the model chosen)
  double published_layer_activation = 0.0;  // Korthikanti et al.'s figure for the same layer
  double device_memory = 0.0;               // what one rank has (devices_per_rank x memory)
  bool fits = true;
  TimeBreakdown time;
  double bubble_ratio = 0.0;  // the simulator's idle / compute
  double tokens_per_step = 0.0;
  double tokens_per_s = 0.0;
  double model_flops_per_step = 0.0;  // 6N + 12 L h s a token, N active (trellis-train's MFU count)
  double tflops_per_device = 0.0;     // model FLOP/s per device, in TFLOP/s
  double mfu = 0.0;  // train/model_flops.h's MFU against the cluster's peak x devices
};

// Throws InputError when the request cannot be predicted (a layout that does not divide the
// model, no peak for the training dtype, a family without a plugin that describes its cost).
Prediction predict(const PlanRequest& request, const ClusterSpec& cluster);

// Devices one rank uses: 1 on a GPU; on a CPU [device] threads, or every core of a node when 0
// (OpenMP's default).
int devices_per_rank(const ClusterSpec& cluster, const LayoutChoice& layout);

}  // namespace trellis::plan
