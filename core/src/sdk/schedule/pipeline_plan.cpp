#include "trellis/pipeline_plan.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "trellis/error.h"

namespace trellis {

namespace {

bool has_communication(const std::vector<std::vector<Action>>& lists) {
  for (const auto& list : lists)
    for (const Action& a : list)
      if (!is_compute(a.type)) return true;
  return false;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += "\n  " + line;
  return out;
}

}  // namespace

bool PipelinePlan::splits_backward() const {
  for (const auto& list : per_rank)
    for (const Action& a : list)
      if (a.type == ActionType::I || a.type == ActionType::W) return true;
  return false;
}

std::vector<std::vector<Action>> lower_communication(
    const std::vector<std::vector<Action>>& compute, const std::vector<int>& stage_rank) {
  const int stages = static_cast<int>(stage_rank.size());
  std::vector<std::vector<Action>> out(compute.size());
  for (std::size_t r = 0; r < compute.size(); ++r) {
    for (const Action& a : compute[r]) {
      const int s = a.stage;
      const bool valid_stage = s >= 0 && s < stages;
      const bool forward = a.type == ActionType::F;
      const bool input_grad = a.type == ActionType::B || a.type == ActionType::I;
      // The receive goes right before the compute that needs it.
      if (valid_stage && forward && s > 0 && stage_rank[s - 1] != stage_rank[s]) {
        out[r].push_back({s, ActionType::RECV_F, a.microbatch});
      }
      if (valid_stage && input_grad && s + 1 < stages && stage_rank[s + 1] != stage_rank[s]) {
        out[r].push_back({s, ActionType::RECV_B, a.microbatch});
      }
      out[r].push_back(a);
      // The send right after the compute that produced it.
      if (valid_stage && forward && s + 1 < stages && stage_rank[s + 1] != stage_rank[s]) {
        out[r].push_back({s, ActionType::SEND_F, a.microbatch});
      }
      if (valid_stage && input_grad && s > 0 && stage_rank[s - 1] != stage_rank[s]) {
        out[r].push_back({s, ActionType::SEND_B, a.microbatch});
      }
    }
  }
  return out;
}

std::vector<std::string> check_plan(const PipelinePlan& plan) {
  std::vector<std::string> problems;
  const int stages = plan.stages();
  const int m = plan.microbatches;
  using Key = std::tuple<int, ActionType, int>;
  std::map<Key, int> count;
  for (std::size_t r = 0; r < plan.per_rank.size(); ++r) {
    for (const Action& a : plan.per_rank[r]) {
      const std::string where = "rank " + std::to_string(r) + ": " + to_string(a);
      if (a.stage < 0 || a.stage >= stages) {
        problems.push_back(where + ": stage " + std::to_string(a.stage) + " does not exist (the " +
                           "plan has " + std::to_string(stages) + " stages)");
        continue;
      }
      if (a.microbatch < 0 || a.microbatch >= m) {
        problems.push_back(where + ": microbatch " + std::to_string(a.microbatch) +
                           " does not exist (there are " + std::to_string(m) + ")");
        continue;
      }
      if (plan.stage_rank[a.stage] != static_cast<int>(r)) {
        problems.push_back(where + ": stage " + std::to_string(a.stage) + " runs on rank " +
                           std::to_string(plan.stage_rank[a.stage]));
        continue;
      }
      if (++count[{a.stage, a.type, a.microbatch}] == 2) {
        problems.push_back(where + " appears more than once");
      }
    }
  }
  auto n = [&](int s, ActionType t, int mb) {
    auto it = count.find({s, t, mb});
    return it == count.end() ? 0 : it->second;
  };
  for (int s = 0; s < stages; ++s) {
    const int r = plan.stage_rank[s];
    const std::string on = " (rank " + std::to_string(r) + ")";
    for (int mb = 0; mb < m; ++mb) {
      auto name = [&](ActionType t) { return to_string(Action{s, t, mb}); };
      if (n(s, ActionType::F, mb) == 0) problems.push_back("missing " + name(ActionType::F) + on);
      const int whole = n(s, ActionType::B, mb);
      const int input = n(s, ActionType::I, mb);
      const int weight = n(s, ActionType::W, mb);
      if (whole > 0 && (input > 0 || weight > 0)) {
        problems.push_back(name(ActionType::B) + " and a split backward (" + name(ActionType::I) +
                           "/" + name(ActionType::W) + ") for the same microbatch" + on);
      } else if (whole == 0 && input == 0 && weight == 0) {
        problems.push_back("missing the backward of stage " + std::to_string(s) + ", microbatch " +
                           std::to_string(mb) + on + ": " + name(ActionType::B) + ", or " +
                           name(ActionType::I) + " and " + name(ActionType::W));
      } else if (whole == 0 && input == 0) {
        problems.push_back("missing " + name(ActionType::I) + " (" + name(ActionType::W) +
                           " is there)" + on);
      } else if (whole == 0 && weight == 0) {
        problems.push_back("missing " + name(ActionType::W) + " (" + name(ActionType::I) +
                           " is there)" + on);
      }
      // Communication: every stage boundary between two ranks needs a matching pair each way.
      const bool next_remote = s + 1 < stages && plan.stage_rank[s + 1] != r;
      const bool prev_remote = s > 0 && plan.stage_rank[s - 1] != r;
      auto pair = [&](ActionType send, int send_stage, ActionType recv, int recv_stage) {
        const int sends = n(send_stage, send, mb), recvs = n(recv_stage, recv, mb);
        const std::string s_text = to_string(Action{send_stage, send, mb});
        const std::string r_text = to_string(Action{recv_stage, recv, mb});
        if (sends == 0 && recvs > 0) problems.push_back(r_text + " has no matching " + s_text);
        if (recvs == 0 && sends > 0) problems.push_back(s_text + " has no matching " + r_text);
        if (sends == 0 && recvs == 0) {
          problems.push_back("nothing carries microbatch " + std::to_string(mb) +
                             " between stage " + std::to_string(std::min(send_stage, recv_stage)) +
                             " and " + std::to_string(std::max(send_stage, recv_stage)) +
                             ": missing " + s_text + " and " + r_text);
        }
      };
      if (next_remote) pair(ActionType::SEND_F, s, ActionType::RECV_F, s + 1);
      if (prev_remote) pair(ActionType::SEND_B, s, ActionType::RECV_B, s - 1);
      // Communication where the neighbouring stage is on the same rank is a mistake.
      if (!next_remote && (n(s, ActionType::SEND_F, mb) > 0)) {
        problems.push_back(name(ActionType::SEND_F) + ": stage " + std::to_string(s + 1) +
                           (s + 1 < stages ? " runs on the same rank" : " does not exist"));
      }
      if (!prev_remote && (n(s, ActionType::SEND_B, mb) > 0)) {
        problems.push_back(name(ActionType::SEND_B) + ": stage " + std::to_string(s - 1) +
                           (s > 0 ? " runs on the same rank" : " does not exist"));
      }
    }
  }
  return problems;
}

PipelinePlan build_plan(const Schedule& schedule, const ScheduleQuery& shape) {
  PipelinePlan plan;
  plan.pipeline_size = shape.pipeline_size;
  plan.microbatches = shape.microbatches;
  plan.virtual_stages = shape.virtual_stages;
  const int stages = shape.pipeline_size * shape.virtual_stages;
  for (int s = 0; s < stages; ++s) {
    int r = schedule.stage_rank(s, shape);
    if (r < 0 || r >= shape.pipeline_size) {
      throw InputError("the schedule puts stage " + std::to_string(s) + " on rank " +
                       std::to_string(r) + ", outside the pipeline of " +
                       std::to_string(shape.pipeline_size));
    }
    plan.stage_rank.push_back(r);
  }
  std::vector<std::vector<Action>> lists;
  for (int r = 0; r < shape.pipeline_size; ++r) {
    ScheduleQuery q = shape;
    q.pipeline_rank = r;
    lists.push_back(schedule.actions(q));
  }
  plan.per_rank =
      has_communication(lists) ? std::move(lists) : lower_communication(lists, plan.stage_rank);
  std::vector<std::string> problems = check_plan(plan);
  if (!problems.empty()) {
    throw InputError(
        "the schedule's actions are inconsistent (pipeline " + std::to_string(shape.pipeline_size) +
        ", " + std::to_string(shape.microbatches) + " microbatches, " +
        std::to_string(shape.virtual_stages) + " virtual stages):" + join_lines(problems));
  }
  return plan;
}

PipelinePlan single_stage_plan(int microbatches) {
  PipelinePlan plan;
  plan.pipeline_size = 1;
  plan.microbatches = microbatches;
  plan.stage_rank = {0};
  plan.per_rank.resize(1);
  for (int m = 0; m < microbatches; ++m) {
    plan.per_rank[0].push_back({0, ActionType::F, m});
    plan.per_rank[0].push_back({0, ActionType::B, m});
  }
  return plan;
}

PipelinePlan plan_from_lists(std::vector<std::vector<Action>> per_rank, int microbatches,
                             int virtual_stages) {
  PipelinePlan plan;
  plan.pipeline_size = static_cast<int>(per_rank.size());
  plan.microbatches = microbatches;
  plan.virtual_stages = virtual_stages;
  const int stages = plan.pipeline_size * virtual_stages;
  plan.stage_rank.assign(static_cast<std::size_t>(stages), -1);
  // A stage runs where its compute appears (a V-shaped placement is fine); a stage with no
  // compute anywhere keeps the default s % p, and the checks will report what it misses.
  std::vector<std::string> problems;
  for (std::size_t r = 0; r < per_rank.size(); ++r) {
    for (const Action& a : per_rank[r]) {
      if (!is_compute(a.type) || a.stage < 0 || a.stage >= stages) continue;
      int& owner = plan.stage_rank[a.stage];
      if (owner < 0) {
        owner = static_cast<int>(r);
      } else if (owner != static_cast<int>(r)) {
        std::string line = "stage " + std::to_string(a.stage) + " has compute on ranks " +
                           std::to_string(owner) + " and " + std::to_string(r);
        if (std::find(problems.begin(), problems.end(), line) == problems.end()) {
          problems.push_back(line);
        }
      }
    }
  }
  if (!problems.empty()) {
    throw InputError("the schedule's actions are inconsistent:" + join_lines(problems));
  }
  for (int s = 0; s < stages; ++s)
    if (plan.stage_rank[s] < 0) plan.stage_rank[s] = s % plan.pipeline_size;
  plan.per_rank = has_communication(per_rank) ? std::move(per_rank)
                                              : lower_communication(per_rank, plan.stage_rank);
  problems = check_plan(plan);
  if (!problems.empty()) {
    throw InputError("the schedule's actions are inconsistent:" + join_lines(problems));
  }
  return plan;
}

}  // namespace trellis
