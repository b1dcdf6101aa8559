// Test plugin "fill-drain" (and, built with another name, the "twin" duplicates): the GPipe
// schedule. Every forward of every microbatch, then every backward; with virtual stages a rank's
// forwards go through its chunks in stage order and its backwards in reverse.
#include "trellis/plugin.h"

#ifndef TEST_SCHEDULE_NAME
#define TEST_SCHEDULE_NAME "fill-drain"
#endif
#ifndef TEST_SCHEDULE_VERSION
#define TEST_SCHEDULE_VERSION "2.0.1"
#endif

namespace {

class FillDrain final : public trellis::Schedule {
 public:
  std::vector<trellis::Action> actions(const trellis::ScheduleQuery& q) const override {
    std::vector<trellis::Action> list;
    for (int mb = 0; mb < q.microbatches; ++mb) {
      for (int chunk = 0; chunk < q.virtual_stages; ++chunk) {
        list.push_back({chunk * q.pipeline_size + q.pipeline_rank, trellis::ActionType::F, mb});
      }
    }
    for (int mb = 0; mb < q.microbatches; ++mb) {
      for (int chunk = q.virtual_stages - 1; chunk >= 0; --chunk) {
        list.push_back({chunk * q.pipeline_size + q.pipeline_rank, trellis::ActionType::B, mb});
      }
    }
    return list;
  }
};

std::unique_ptr<trellis::Schedule> make(const trellis::ScheduleInit&) {
  return std::make_unique<FillDrain>();
}

const trellis::PluginDescriptor descriptor{
    .abi = trellis::kAbiVersion,
    .kind = trellis::PluginKind::schedule,
    .name = TEST_SCHEDULE_NAME,
    .version = TEST_SCHEDULE_VERSION,
    .summary = "all forwards, then all backwards",
    .make_schedule = &make,
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
