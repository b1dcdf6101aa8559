#include "plugin/guarded_schedule.h"

#include "plugin/plugin_call.h"

namespace trellis::plugin_detail {

namespace {

class GuardedSchedule final : public Schedule {
 public:
  GuardedSchedule(std::shared_ptr<Schedule> inner, std::string plugin)
      : inner_(std::move(inner)), plugin_(std::move(plugin)) {}

  std::vector<Action> actions(const ScheduleQuery& query) const override {
    return plugin_call(
        [&] {
          return plugin_ + ": actions of pipeline rank " + std::to_string(query.pipeline_rank);
        },
        [&] { return inner_->actions(query); });
  }
  int stage_rank(int stage, const ScheduleQuery& query) const override {
    return plugin_call([&] { return plugin_ + ": stage_rank of stage " + std::to_string(stage); },
                       [&] { return inner_->stage_rank(stage, query); });
  }

 private:
  std::shared_ptr<Schedule> inner_;
  std::string plugin_;
};

}  // namespace

std::shared_ptr<Schedule> guard_schedule(std::shared_ptr<Schedule> schedule, std::string plugin) {
  return std::make_shared<GuardedSchedule>(std::move(schedule), std::move(plugin));
}

}  // namespace trellis::plugin_detail
