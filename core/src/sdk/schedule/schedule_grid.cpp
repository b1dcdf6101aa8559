#include "trellis/schedule_grid.h"

#include <algorithm>
#include <cmath>

namespace trellis {

std::string draw_action_lists(const PipelinePlan& plan, const std::vector<std::size_t>& stuck) {
  std::string out;
  for (std::size_t r = 0; r < plan.per_rank.size(); ++r) {
    out += "  rank " + std::to_string(r) + " |";
    const auto& list = plan.per_rank[r];
    for (std::size_t i = 0; i < list.size(); ++i) {
      const bool mark = r < stuck.size() && stuck[r] == i;
      out += mark ? " [" : " ";
      out += to_string(list[i]);
      if (mark) out += ']';
    }
    out += "\n";
  }
  return out;
}

std::string draw_timeline(const SimulationResult& result, const ActionCosts& costs,
                          int max_columns) {
  const double unit = costs.forward > 0 ? costs.forward : 1.0;
  const int columns = static_cast<int>(std::ceil(result.makespan / unit - 1e-9));
  const int shown = std::min(columns, max_columns);
  std::size_t width = 3;
  for (const auto& rank : result.timeline)
    for (const TimedAction& t : rank)
      if (is_compute(t.action.type)) width = std::max(width, to_string(t.action).size());
  std::string out;
  for (std::size_t r = 0; r < result.timeline.size(); ++r) {
    std::vector<std::string> cells(static_cast<std::size_t>(shown), ".");
    for (const TimedAction& t : result.timeline[r]) {
      if (!is_compute(t.action.type)) continue;
      int first = static_cast<int>(std::floor(t.start / unit + 1e-9));
      int last = static_cast<int>(std::ceil(t.end / unit - 1e-9));
      for (int c = first; c < last && c < shown; ++c) cells[c] = to_string(t.action);
    }
    out += "  rank " + std::to_string(r) + " |";
    for (const std::string& cell : cells) {
      out += " " + cell + std::string(width - cell.size(), ' ');
    }
    if (shown < columns) out += " ... (" + std::to_string(columns - shown) + " more)";
    out += "\n";
  }
  return out;
}

}  // namespace trellis
