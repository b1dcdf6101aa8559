// trellis-plan's command line.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "plan/activation_memory.h"
#include "plan/layout_choice.h"

namespace trellis::plan {

extern const char* const kUsage;

struct PlanArguments {
  std::string config;                  // the run TOML (may be empty with --calibrate)
  std::vector<std::string> overrides;  // --set
  std::string cluster;                 // --cluster; empty: this machine, probed
  bool search = false;
  int top = 5;
  std::optional<int> world;      // --world (search): default the config's world size
  std::optional<double> tokens;  // --tokens N: time to train N tokens
  // --recompute, --recompute-method, --recompute-num-layers: each unset keeps the run's
  // ([train] recompute, recompute_method, recompute_num_layers).
  std::optional<Recompute> recompute;
  std::optional<RecomputeMethod> recompute_method;
  std::optional<int> recompute_num_layers;
  std::string dtype;  // --dtype: train in this instead of the cluster's dtype
  ActivationModel activations = ActivationModel::trellis;
  std::vector<std::string> calibrate;       // --calibrate FILE: comm JSON, or metrics of CONFIG
  std::vector<std::string> calibrate_runs;  // --calibrate-run CONFIG=METRICS
  std::string link = "intra_node";          // --link intra|inter: what the comm rows measured
  std::string output;                       // --output FILE: the fitted cluster TOML
  std::string json;                         // --json FILE: the prediction(s) as JSON
  bool help = false;
};

// Throws InputError (exit 2) with the usage for a bad command line.
PlanArguments parse_plan_arguments(int argc, char** argv);

// The run's recomputation with the command line's overrides. Throws InputError (exit 2) for
// --recompute-method or --recompute-num-layers with a granularity other than full, or more
// blocks than a chunk of `blocks_per_chunk` has.
RecomputeSettings recompute_with_overrides(const PlanArguments& args, const RecomputeSettings& run,
                                           int blocks_per_chunk);

}  // namespace trellis::plan
