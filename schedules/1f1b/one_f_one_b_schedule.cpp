// 1F1B (PipeDream-Flush, Narayanan et al. 2021; Megatron's default): rank r runs
// min(p - r - 1, m) warm-up forwards, then alternates one forward and one backward, then
// finishes the backwards. Same bubble as GPipe, (p - 1) / m of the compute, but at most p - r
// microbatches' activations are alive on rank r instead of m.
#include <algorithm>
#include <string>

#include "trellis/plugin.h"

namespace {

using trellis::Action;
using trellis::ActionType;

class OneFOneBSchedule final : public trellis::Schedule {
 public:
  std::vector<Action> actions(const trellis::ScheduleQuery& q) const override {
    const int r = q.pipeline_rank, m = q.microbatches;
    const int warmup = std::min(q.pipeline_size - r - 1, m);
    std::vector<Action> out;
    int forward = 0, backward = 0;
    for (; forward < warmup; ++forward) out.push_back({r, ActionType::F, forward});
    while (forward < m) {
      out.push_back({r, ActionType::F, forward++});
      out.push_back({r, ActionType::B, backward++});
    }
    while (backward < m) out.push_back({r, ActionType::B, backward++});
    return out;
  }
};

std::unique_ptr<trellis::Schedule> make(const trellis::ScheduleInit&) {
  return std::make_unique<OneFOneBSchedule>();
}

std::vector<trellis::ConfigProblem> check(const trellis::RunQuery& q) {
  if (q.virtual_stages == 1) return {};
  return {{"parallel.virtual_stages",
           "1f1b runs one stage per rank; virtual_stages = " + std::to_string(q.virtual_stages) +
               " needs schedule = \"interleaved\" (valid here: 1)"}};
}

const trellis::PluginDescriptor descriptor{
    .abi = trellis::kAbiVersion,
    .kind = trellis::PluginKind::schedule,
    .name = "1f1b",
    .version = "1.0.0",
    .summary = "1F1B: warm-up, one forward one backward, cool-down (bounded activations)",
    .make_comm = nullptr,
    .make_layers = nullptr,
    .make_schedule = &make,
    .check = &check,
    .options = nullptr,
    .option_count = 0,
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
