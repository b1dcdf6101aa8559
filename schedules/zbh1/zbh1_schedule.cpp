// ZB-H1 (Qi et al. 2023, "Zero Bubble Pipeline Parallelism"): the backward of each stage is split
// into I (the gradient of the input, which the previous stage is waiting for) and W (the
// gradients of the weights, which nobody waits for). Rank r follows 1F1B's order of forwards and
// input gradients (min(p - r - 1, m) warm-up forwards, then F and I alternating), but runs the W
// of microbatch k only after the I of microbatch k + r: its first r iterations take two slots
// instead of three, so the gradients travel back through the pipeline sooner, and the r W's left
// at the end fill the slots where the rank would otherwise wait. With F, I and W of equal cost
// the bubble falls from 1F1B's (p - 1) / m of the compute to (p - 1) / (3m). Every rank then has
// p microbatches alive at its peak (from F to W) — the first rank's 1F1B peak; between I and W
// a microbatch holds only what the weight gradients need, less than a full stash.
#include <algorithm>
#include <string>

#include "trellis/schedule_plugin.h"

namespace {

using trellis::Action;
using trellis::ActionType;

class ZeroBubbleH1Schedule final : public trellis::Schedule {
 public:
  std::vector<Action> actions(const trellis::ScheduleQuery& q) const override {
    const int r = q.pipeline_rank, m = q.microbatches;
    const int warmup = std::min(q.pipeline_size - r - 1, m);
    std::vector<Action> out;
    int next_w = 0;
    auto input_grad = [&](int k) {
      out.push_back({r, ActionType::I, k});
      if (k >= r) out.push_back({r, ActionType::W, next_w++});
    };
    for (int f = 0; f < warmup; ++f) out.push_back({r, ActionType::F, f});
    for (int k = 0; k < m; ++k) {
      if (warmup + k < m) out.push_back({r, ActionType::F, warmup + k});
      input_grad(k);
    }
    while (next_w < m) out.push_back({r, ActionType::W, next_w++});
    return out;
  }
};

std::vector<trellis::ConfigProblem> check(const trellis::RunQuery& q) {
  return trellis::check_one_stage_per_rank(q, "zbh1", "is not supported by it");
}

const trellis::PluginDescriptor descriptor = trellis::schedule_descriptor(
    "zbh1", "1.0.0", "ZB-H1 zero-bubble: backward split into I and W, W fills the bubbles",
    &trellis::make_schedule_of<ZeroBubbleH1Schedule>, &check);

}  // namespace

TRELLIS_PLUGIN(descriptor)
