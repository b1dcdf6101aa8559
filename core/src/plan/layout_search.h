// --search: every layout of the model on a given number of ranks, predicted and ranked.
//
// Enumerated: tensor x context x pipeline x data = world (context sizes that cut the sequence
// into 2 x context equal chunks, each with every context mode the registry finds); virtual
// stages (pipeline > 1, dividing the layers per stage, up to max_virtual_stages); every schedule
// and every layer family the plugin registry finds (at tensor 1 one family stands for all: every
// family at tensor 1 is the plain model, so the others would be the same layout under other
// names); every micro batch dividing the global batch per data rank. A candidate is kept when
// core's layout rules hold (the config check's: layers % (pipeline x virtual stages), global
// batch % (micro batch x data), virtual stages only with a pipeline), the family's, the
// schedule's and the context plugin's own check hooks accept it — run through the registry, as
// the config check runs them — and the schedule's plan simulates without deadlock. A family or
// context mode whose plugin does not describe its cost (trellis/layer_cost.h,
// trellis/context_cost.h), and a schedule that needs options of its own (csv's file), are left
// out and the result says so. Memory is predicted for every candidate; those that fit are timed
// and ranked by tokens per second.
#pragma once

#include <string>
#include <vector>

#include "plan/step_prediction.h"
#include "trellis/plugin_registry.h"

namespace trellis::plan {

struct SearchSpace {
  int world = 1;
  // Only these schedules, layer families and context modes of those the registry finds; empty:
  // every one.
  std::vector<std::string> schedules;
  std::vector<std::string> tensor_modes;
  std::vector<std::string> context_modes;
  int max_virtual_stages = 8;
  // The vocabulary as the run pads it: rounded up to a multiple of lcm(128, tensor), or (an
  // llm.c checkpoint's Vp) to a multiple of tensor.
  std::int64_t checkpoint_padded_vocab = 0;  // 0: no checkpoint
};

struct SearchResult {
  std::vector<Prediction> ranked;  // fitting layouts, fastest first
  int considered = 0;              // layouts enumerated
  int rejected = 0;                // failed a rule or a plugin's check
  int too_big = 0;                 // valid, but over the device memory
  std::vector<std::string> notes;  // e.g. a family left out: its plugin describes no cost
};

// `base` gives the model, batch and fixed settings (zero, recompute, threads, rank order);
// its layout is ignored. `registry` gives the families and schedules (null: nothing to search).
SearchResult search_layouts(const PlanRequest& base, const ClusterSpec& cluster,
                            const PluginRegistry* registry, const SearchSpace& space);

// The padded vocabulary of a layout with `tensor` ranks (as the config loader pads it).
std::int64_t padded_vocab_for(std::int64_t vocab_size, int tensor,
                              std::int64_t checkpoint_padded_vocab);

}  // namespace trellis::plan
