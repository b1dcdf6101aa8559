// GPipe (Huang et al. 2019): each rank runs the forwards of every microbatch, then their
// backwards. Simple, and the bubble is (p - 1) / m of the compute, but every microbatch's
// activations are alive at once on every rank.
#include <string>

#include "trellis/plugin.h"

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

std::unique_ptr<trellis::Schedule> make(const trellis::ScheduleInit&) {
  return std::make_unique<GpipeSchedule>();
}

std::vector<trellis::ConfigProblem> check(const trellis::RunQuery& q) {
  if (q.virtual_stages == 1) return {};
  return {{"parallel.virtual_stages",
           "gpipe runs one stage per rank; virtual_stages = " + std::to_string(q.virtual_stages) +
               " needs schedule = \"interleaved\" (valid here: 1)"}};
}

const trellis::PluginDescriptor descriptor{
    .abi = trellis::kAbiVersion,
    .kind = trellis::PluginKind::schedule,
    .name = "gpipe",
    .version = "1.0.0",
    .summary = "GPipe: all forwards, then all backwards",
    .make_comm = nullptr,
    .make_layers = nullptr,
    .make_schedule = &make,
    .check = &check,
    .options = nullptr,
    .option_count = 0,
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
