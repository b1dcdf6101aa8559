// 1F1B (PipeDream-Flush, Narayanan et al. 2021; Megatron's default): rank r runs
// min(p - r - 1, m) warm-up forwards, then alternates one forward and one backward, then
// finishes the backwards. Same bubble as GPipe, (p - 1) / m of the compute, but at most p - r
// microbatches' activations are alive on rank r instead of m.
#include <algorithm>
#include <string>

#include "trellis/schedule_plugin.h"

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

std::vector<trellis::ConfigProblem> check(const trellis::RunQuery& q) {
  return trellis::check_one_stage_per_rank(q, "1f1b", "needs schedule = \"interleaved\"");
}

const trellis::PluginDescriptor descriptor = trellis::schedule_descriptor(
    "1f1b", "1.0.0", "1F1B: warm-up, one forward one backward, cool-down (bounded activations)",
    &trellis::make_schedule_of<OneFOneBSchedule>, &check);

}  // namespace

TRELLIS_PLUGIN(descriptor)
