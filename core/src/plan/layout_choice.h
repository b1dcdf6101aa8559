// One parallel layout and the settings that change its cost: what the planner predicts for, and
// what --search enumerates.
#pragma once

#include <string>

#include "config/run_config.h"
#include "model/recompute_plan.h"
#include "trellis/parallel.h"

namespace trellis::plan {

// Activation recomputation (Korthikanti et al. 2022) as trellis-train runs it
// (model/recompute_plan.h): "selective" redoes attention's core (scores, softmax, weighted sum)
// in each block's backward; "full" keeps only the input of each group of blocks and redoes the
// group's forward in its backward (method uniform: every block, in groups of num_layers; block:
// the first num_layers blocks of each chunk, one group each).
using Recompute = RecomputeGranularity;

const char* recompute_name(Recompute r) noexcept;  // "none", "selective", "full"
bool parse_recompute(const std::string& name, Recompute& r);
bool parse_recompute_method(const std::string& name, RecomputeMethod& m);  // "uniform", "block"
// "none", "selective", "full uniform 1", "full block 2": the settings as --recompute,
// --recompute-method and --recompute-num-layers say them.
std::string describe_recompute_settings(const RecomputeSettings& r);

struct LayoutChoice {
  int tensor = 1;
  int pipeline = 1;
  int data = 1;
  int virtual_stages = 1;
  // A schedule plugin's name, used when pipeline > 1 (by default the config's default).
  std::string schedule = ParallelSection{}.schedule;
  // The layer family: a layers plugin's name ([parallel] tensor_mode), which describes its costs
  // (plan/family_cost.h); by default the config's default.
  std::string tensor_mode = ParallelSection{}.tensor_mode;
  // Context parallelism: c ranks share each sequence; a context plugin's name
  // ([parallel] context_mode), used when context > 1, describes its attention's costs
  // (plan/context_work.h).
  int context = 1;
  std::string context_mode = ParallelSection{}.context_mode;
  // Expert parallelism (a model with experts): ep data ranks split each MoE block's experts; a
  // dispatcher plugin's name ([parallel] expert_dispatcher), used when expert > 1, describes its
  // collectives (plan/moe_work.h).
  int expert = 1;
  std::string expert_dispatcher = ParallelSection{}.expert_dispatcher;
  int micro_batch = 1;
  int zero = 0;
  RecomputeSettings recompute;  // by default none
  // CPU: [device] threads (0: OpenMP's default, one per core of the node). Ignored on GPUs.
  int threads = 0;
  RankOrder order = kDefaultRankOrder;

  int world() const noexcept { return tensor * context * data * pipeline; }
  ParallelSizes sizes() const noexcept { return {tensor, context, data, pipeline}; }
  // "t2 p4 d8 v2 1f1b 1d mb4" (context, expert, zero and recompute when set: "t2 p1 d2 c4 ring
  // 1d mb1", "t1 p1 d4 e2 alltoall 1d mb1", "... rc-selective", "... rc-full-uniform2",
  // "... rc-full-block1").
  std::string describe() const;
};

}  // namespace trellis::plan
