// A schedule plugin in a few lines: the factory, the descriptor and the check most schedules
// share, so that a schedule's file holds the schedule.
//
//   class MySchedule final : public trellis::Schedule { ... };
//
//   std::vector<trellis::ConfigProblem> check(const trellis::RunQuery& query) {
//     return trellis::check_one_stage_per_rank(query, "mine", "needs schedule = \"interleaved\"");
//   }
//
//   const trellis::PluginDescriptor descriptor = trellis::schedule_descriptor(
//       "mine", "1.0.0", "one line for trellis-plugins", &trellis::make_schedule_of<MySchedule>,
//       &check);
//   TRELLIS_PLUGIN(descriptor)
#pragma once

#include <cstddef>
#include <memory>
#include <type_traits>
#include <vector>

#include "trellis/plugin.h"

namespace trellis {

// The factory of ScheduleT: constructed from the ScheduleInit when it takes one (to read its
// options), else default-constructed.
template <class ScheduleT>
std::unique_ptr<Schedule> make_schedule_of(const ScheduleInit& init) {
  if constexpr (std::is_constructible_v<ScheduleT, const ScheduleInit&>) {
    return std::make_unique<ScheduleT>(init);
  } else {
    (void)init;
    return std::make_unique<ScheduleT>();
  }
}

// The descriptor of a schedule plugin of this SDK's ABI; `check` and `options` may be null.
inline PluginDescriptor schedule_descriptor(const char* name, const char* version,
                                            const char* summary, ScheduleFactory make,
                                            RunCheck check = nullptr,
                                            const OptionSpec* options = nullptr,
                                            std::size_t option_count = 0) {
  PluginDescriptor descriptor{.abi = kAbiVersion,
                              .kind = PluginKind::schedule,
                              .name = name,
                              .version = version,
                              .summary = summary};
  descriptor.make_schedule = make;
  descriptor.check = check;
  descriptor.options = options;
  descriptor.option_count = option_count;
  return descriptor;
}

// For a schedule that runs one stage per pipeline rank: no problem when the run has one virtual
// stage, else the problem at parallel.virtual_stages, "<schedule> runs one stage per rank;
// virtual_stages = V <instead> (valid here: 1)", where `instead` says what would serve the run
// (e.g. "needs schedule = \"interleaved\"").
std::vector<ConfigProblem> check_one_stage_per_rank(const RunQuery& query, const char* schedule,
                                                    const char* instead);

}  // namespace trellis
