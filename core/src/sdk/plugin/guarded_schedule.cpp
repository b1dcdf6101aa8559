#include "plugin/guarded_schedule.h"

namespace trellis::plugin_detail {

namespace {

class GuardedSchedule final : public Schedule {
 public:
  GuardedSchedule(std::shared_ptr<Schedule> inner, PluginOwnerPtr owner)
      : owner_(std::move(owner)), inner_(std::move(inner)) {}

  std::vector<Action> actions(const ScheduleQuery& query) const override {
    return plugin_call(
        [&] {
          return owner_->label + ": actions of pipeline rank " +
                 std::to_string(query.pipeline_rank);
        },
        [&] { return inner_->actions(query); });
  }
  int stage_rank(int stage, const ScheduleQuery& query) const override {
    return plugin_call(
        [&] { return owner_->label + ": stage_rank of stage " + std::to_string(stage); },
        [&] { return inner_->stage_rank(stage, query); });
  }

 private:
  PluginOwnerPtr owner_;
  std::shared_ptr<Schedule> inner_;
};

}  // namespace

std::shared_ptr<Schedule> guard_schedule(std::shared_ptr<Schedule> schedule, PluginOwnerPtr owner) {
  return std::make_shared<GuardedSchedule>(std::move(schedule), std::move(owner));
}

}  // namespace trellis::plugin_detail
