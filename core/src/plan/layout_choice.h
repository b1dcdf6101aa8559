// One parallel layout and the settings that change its cost: what the planner predicts for, and
// what --search enumerates.
#pragma once

#include <string>

#include "config/run_config.h"
#include "trellis/parallel.h"

namespace trellis::plan {

// Activation recomputation (Korthikanti et al. 2022). Trellis has none yet; the planner can
// predict it (--recompute) as Megatron-LM runs it: "full" keeps each layer's input and redoes
// the layer's forward in backward, "selective" redoes attention's core (scores, softmax,
// weighted sum) only.
enum class Recompute : unsigned char { none, selective, full };

const char* recompute_name(Recompute r) noexcept;  // "none", "selective", "full"
bool parse_recompute(const std::string& name, Recompute& r);

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
  int micro_batch = 1;
  int zero = 0;
  Recompute recompute = Recompute::none;
  // CPU: [device] threads (0: OpenMP's default, one per core of the node). Ignored on GPUs.
  int threads = 0;
  RankOrder order = kDefaultRankOrder;

  int world() const noexcept { return tensor * context * data * pipeline; }
  ParallelSizes sizes() const noexcept { return {tensor, context, data, pipeline}; }
  // "t2 p4 d8 v2 1f1b 1d mb4" (context, zero and recompute when set: "t2 p1 d2 c4 ring 1d mb1").
  std::string describe() const;
};

}  // namespace trellis::plan
