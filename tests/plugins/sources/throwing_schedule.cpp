// Test plugin "thrower" (schedule): a schedule whose actions() throws a std::invalid_argument and
// whose factory throws for a pipeline it was not written for.
#include <stdexcept>

#include "trellis/plugin.h"

namespace {

class ThrowingSchedule final : public trellis::Schedule {
 public:
  std::vector<trellis::Action> actions(const trellis::ScheduleQuery& query) const override {
    throw std::invalid_argument("no plan for " + std::to_string(query.microbatches) +
                                " microbatches");
  }
};

std::unique_ptr<trellis::Schedule> make(const trellis::ScheduleInit& init) {
  if (init.options == nullptr) throw std::logic_error("no options table");
  return std::make_unique<ThrowingSchedule>();
}

const trellis::PluginDescriptor descriptor{
    .abi = trellis::kAbiVersion,
    .kind = trellis::PluginKind::schedule,
    .name = "thrower",
    .version = "0.0.1",
    .summary = "a schedule whose calls throw",
    .make_schedule = &make,
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
