// GPipe (Huang et al. 2019): each rank runs the forwards of every microbatch, then their
// backwards. Simple, and the bubble is (p - 1) / m of the compute, but every microbatch's
// activations are alive at once on every rank.
#include <string>

#include "trellis/schedule_plugin.h"

namespace {

class GpipeSchedule final : public trellis::Schedule {
 public:
  std::vector<trellis::Action> actions(const trellis::ScheduleQuery& q) const override {
    std::vector<trellis::Action> out;
    for (int mb = 0; mb < q.microbatches; ++mb)
      out.push_back({q.pipeline_rank, trellis::ActionType::F, mb});
    for (int mb = 0; mb < q.microbatches; ++mb)
      out.push_back({q.pipeline_rank, trellis::ActionType::B, mb});
    return out;
  }
};

std::vector<trellis::ConfigProblem> check(const trellis::RunQuery& q) {
  return trellis::check_one_stage_per_rank(q, "gpipe", "needs schedule = \"interleaved\"");
}

const trellis::PluginDescriptor descriptor =
    trellis::schedule_descriptor("gpipe", "1.0.0", "GPipe: all forwards, then all backwards",
                                 &trellis::make_schedule_of<GpipeSchedule>, &check);

}  // namespace

TRELLIS_PLUGIN(descriptor)
