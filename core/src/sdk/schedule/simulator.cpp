#include "trellis/simulator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <optional>
#include <tuple>

#include "trellis/error.h"
#include "trellis/schedule_grid.h"

namespace trellis {

namespace {

using Key = std::tuple<int, ActionType, int>;  // (stage, type, microbatch)

Key key(int stage, ActionType type, int mb) {
  return {stage, type, mb};
}

double cost(const Action& a, const std::vector<ActionCosts>& stage_costs) {
  const ActionCosts& c = stage_costs[static_cast<std::size_t>(a.stage)];
  switch (a.type) {
    case ActionType::F:
      return c.forward;
    case ActionType::B:
      return c.backward;
    case ActionType::I:
      return c.backward_input;
    case ActionType::W:
      return c.backward_weight;
    default:
      return 0.0;
  }
}

// A dependency of an action: what must have happened, and whether it crosses ranks (latency).
struct Dependency {
  Key what;
  bool remote = false;
  bool any_backward = false;  // the next stage's B or I, whichever the plan has
};

// At most two per action; a fixed array because trellis-plan's search simulates thousands of
// plans and a vector per action was most of its time.
struct Dependencies {
  std::array<Dependency, 2> items;
  int count = 0;
  void add(Dependency d) { items[static_cast<std::size_t>(count++)] = d; }
  const Dependency* begin() const { return items.data(); }
  const Dependency* end() const { return items.data() + count; }
};

Dependencies dependencies(const Action& a, int rank, const PipelinePlan& plan) {
  const int s = a.stage, mb = a.microbatch, last = plan.stages() - 1;
  Dependencies deps;
  switch (a.type) {
    case ActionType::F:
      if (s > 0) {
        if (plan.stage_rank[s - 1] == rank)
          deps.add({key(s - 1, ActionType::F, mb)});
        else
          deps.add({key(s, ActionType::RECV_F, mb)});
      }
      break;
    case ActionType::B:
    case ActionType::I:
      deps.add({key(s, ActionType::F, mb)});
      if (s < last) {
        if (plan.stage_rank[s + 1] == rank)
          deps.add({key(s + 1, ActionType::B, mb), false, true});
        else
          deps.add({key(s, ActionType::RECV_B, mb)});
      }
      break;
    case ActionType::W:
      deps.add({key(s, ActionType::I, mb)});
      break;
    case ActionType::SEND_F:
      deps.add({key(s, ActionType::F, mb)});
      break;
    case ActionType::SEND_B:
      deps.add({key(s, ActionType::B, mb), false, true});
      break;
    case ActionType::RECV_F:
      deps.add({key(s - 1, ActionType::SEND_F, mb), true});
      break;
    case ActionType::RECV_B:
      deps.add({key(s + 1, ActionType::SEND_B, mb), true});
      break;
  }
  return deps;
}

constexpr int action_types = 8;  // F B I W SEND_F RECV_F SEND_B RECV_B

// When each action ended, in one flat array indexed by (stage, type, microbatch); NaN = not yet.
class FinishTimes {
 public:
  FinishTimes(int stages, int microbatches)
      : stages_(stages),
        microbatches_(microbatches),
        end_(static_cast<std::size_t>(stages) * action_types *
                 static_cast<std::size_t>(microbatches),
             std::numeric_limits<double>::quiet_NaN()) {}

  const double* find(const Key& k) const {
    const auto i = index(k);
    return i && !std::isnan(end_[*i]) ? &end_[*i] : nullptr;
  }
  void set(const Key& k, double end) { end_[*index(k)] = end; }

 private:
  std::optional<std::size_t> index(const Key& k) const {
    const auto [s, t, mb] = k;
    if (s < 0 || s >= stages_ || mb < 0 || mb >= microbatches_) return std::nullopt;
    return (static_cast<std::size_t>(s) * action_types + static_cast<std::size_t>(t)) *
               static_cast<std::size_t>(microbatches_) +
           static_cast<std::size_t>(mb);
  }
  int stages_, microbatches_;
  std::vector<double> end_;
};

}  // namespace

double SimulationResult::bubble_ratio() const {
  double busy_total = 0, idle_total = 0;
  for (double b : busy) {
    busy_total += b;
    idle_total += makespan - b;
  }
  return busy_total > 0 ? idle_total / busy_total : 0.0;
}

double SimulationResult::idle_fraction() const {
  double busy_total = 0;
  for (double b : busy) busy_total += b;
  double total = makespan * static_cast<double>(busy.size());
  return total > 0 ? 1.0 - busy_total / total : 0.0;
}

SimulationResult simulate(const PipelinePlan& plan, const ActionCosts& costs) {
  return simulate(plan, std::vector<ActionCosts>(static_cast<std::size_t>(plan.stages()), costs));
}

SimulationResult simulate(const PipelinePlan& plan, const std::vector<ActionCosts>& stage_costs) {
  if (static_cast<int>(stage_costs.size()) != plan.stages()) {
    throw Error("simulate: " + std::to_string(stage_costs.size()) + " stage costs for a plan of " +
                std::to_string(plan.stages()) + " stages");
  }
  const int ranks = static_cast<int>(plan.per_rank.size());
  SimulationResult result;
  result.timeline.resize(ranks);
  for (int r = 0; r < ranks; ++r) result.timeline[r].reserve(plan.per_rank[r].size());
  result.busy.assign(ranks, 0.0);
  result.peak_activations.assign(ranks, 0);
  int microbatches = 0;
  for (const auto& list : plan.per_rank) {
    for (const Action& a : list) {
      if (a.stage < 0 || a.stage >= plan.stages() || a.microbatch < 0) {
        throw Error("simulate: action " + to_string(a) + " is outside the plan's " +
                    std::to_string(plan.stages()) + " stages");
      }
      microbatches = std::max(microbatches, a.microbatch + 1);
    }
  }
  FinishTimes finished(plan.stages(), microbatches);
  std::vector<std::size_t> next(ranks, 0);
  std::vector<double> clock(ranks, 0.0);

  auto lookup = [&](const Dependency& d, double& at) {
    const double* ended = finished.find(d.what);
    if (ended == nullptr && d.any_backward) {
      ended = finished.find(key(std::get<0>(d.what), ActionType::I, std::get<2>(d.what)));
    }
    if (ended == nullptr) return false;
    // A message into stage s (activations from s - 1, gradients from s + 1) takes the latency
    // of the stage that receives it.
    const int receiver = std::get<0>(d.what) + (std::get<1>(d.what) == ActionType::SEND_F ? 1 : -1);
    at = *ended + (d.remote ? stage_costs[static_cast<std::size_t>(receiver)].latency : 0.0);
    return true;
  };

  bool progress = true;
  while (progress) {
    progress = false;
    for (int r = 0; r < ranks; ++r) {
      const auto& list = plan.per_rank[r];
      while (next[r] < list.size()) {
        const Action& a = list[next[r]];
        double start = clock[r];
        bool ready = true;
        for (const Dependency& d : dependencies(a, r, plan)) {
          double at = 0;
          if (!lookup(d, at)) {
            ready = false;
            break;
          }
          start = std::max(start, at);
        }
        if (!ready) break;
        double end = start + cost(a, stage_costs);
        finished.set(key(a.stage, a.type, a.microbatch), end);
        result.timeline[r].push_back({a, start, end});
        result.busy[r] += cost(a, stage_costs);
        clock[r] = end;
        ++next[r];
        progress = true;
      }
    }
  }

  result.completed = true;
  for (int r = 0; r < ranks; ++r) {
    if (next[r] < plan.per_rank[r].size()) result.completed = false;
    result.makespan = std::max(result.makespan, clock[r]);
  }
  if (!result.completed) {
    std::string report = "the schedule deadlocks; each rank stops at the action marked [ ]:";
    for (int r = 0; r < ranks; ++r) {
      if (next[r] >= plan.per_rank[r].size()) {
        report += "\n  rank " + std::to_string(r) + ": finished";
        continue;
      }
      const Action& a = plan.per_rank[r][next[r]];
      std::string waits;
      for (const Dependency& d : dependencies(a, r, plan)) {
        double at = 0;
        if (lookup(d, at)) continue;
        auto [s, t, mb] = d.what;
        Action missing{s, t, mb};
        // Where is the missing action? Later on the same rank is an ordering error.
        std::string where = "never scheduled";
        for (int q = 0; q < ranks; ++q) {
          const auto& l = plan.per_rank[q];
          for (std::size_t i = next[q]; i < l.size(); ++i) {
            bool same = l[i] == missing || (d.any_backward && l[i].stage == s &&
                                            l[i].microbatch == mb && l[i].type == ActionType::I);
            if (!same) continue;
            where = q == r ? "later on this rank (position " + std::to_string(i) +
                                 "): ordered "
                                 "after the action that needs it"
                           : "on rank " + std::to_string(q) + ", which is stuck before it";
          }
        }
        waits += (waits.empty() ? "" : "; ") + to_string(missing) + " (" + where + ")";
      }
      report += "\n  rank " + std::to_string(r) + ": " + to_string(a) + " waits for " + waits;
    }
    std::vector<std::size_t> stuck(next.begin(), next.end());
    result.deadlock = report + "\n" + draw_action_lists(plan, stuck);
    return result;
  }

  // Activations alive over time: +1 when a forward starts, -1 when its B (or W) ends.
  for (int r = 0; r < ranks; ++r) {
    std::vector<std::pair<double, int>> events;  // (time, +1/-1); ends sort before starts
    for (const TimedAction& t : result.timeline[r]) {
      if (t.action.type == ActionType::F) events.push_back({t.start, +1});
      if (t.action.type == ActionType::B || t.action.type == ActionType::W) {
        events.push_back({t.end, -1});
      }
    }
    std::sort(events.begin(), events.end());
    int alive = 0;
    for (const auto& [time, delta] : events) {
      alive += delta;
      result.peak_activations[r] = std::max(result.peak_activations[r], alive);
    }
  }
  return result;
}

SimulationResult simulate_or_throw(const PipelinePlan& plan, const ActionCosts& costs) {
  SimulationResult result = simulate(plan, costs);
  if (!result.completed) throw InputError(result.deadlock);
  return result;
}

}  // namespace trellis
