#include "plan/activation_timeline.h"

#include <algorithm>
#include <map>
#include <utility>

namespace trellis::plan {

std::vector<ActivationPeak> activation_peaks(const PipelinePlan& plan,
                                             const std::vector<ChunkActivations>& per_stage,
                                             const std::vector<int>& ranks) {
  std::vector<ActivationPeak> peaks(plan.per_rank.size());
  for (std::size_t r = 0; r < plan.per_rank.size(); ++r) {
    if (!ranks.empty() && std::find(ranks.begin(), ranks.end(), static_cast<int>(r)) == ranks.end())
      continue;
    double held = 0.0;
    std::map<std::pair<int, int>, double> alive;  // (stage, microbatch) -> bytes held for it
    ActivationPeak& peak = peaks[r];
    double sending = 0.0;  // a forward's output only its send holds, until the next action ends
    for (const Action& a : plan.per_rank[r]) {
      const ChunkActivations& c = per_stage.at(a.stage);
      const std::pair<int, int> key{a.stage, a.microbatch};
      const bool computes = a.type == ActionType::F || a.type == ActionType::B ||
                            a.type == ActionType::I || a.type == ActionType::W;
      held += sending;
      switch (a.type) {
        case ActionType::F:
          peak.bytes = std::max(peak.bytes, held + c.peak_in_forward);
          held += c.after_forward;
          alive[key] = c.after_forward;
          peak.bytes = std::max(peak.bytes, held + c.sent_output);
          break;
        case ActionType::B:
          peak.bytes = std::max(peak.bytes, held - c.after_forward + c.peak_in_backward);
          held -= alive[key];
          alive.erase(key);
          break;
        case ActionType::I:
          peak.bytes = std::max(peak.bytes, held - c.after_forward + c.peak_in_input);
          held += c.after_input - alive[key];
          alive[key] = c.after_input;
          break;
        case ActionType::W:
          held -= alive[key];
          alive.erase(key);
          break;
        default:
          break;
      }
      held -= sending;
      if (computes) sending = a.type == ActionType::F ? c.sent_output : 0.0;
      peak.alive = std::max(peak.alive, static_cast<int>(alive.size()));
    }
  }
  return peaks;
}

}  // namespace trellis::plan
