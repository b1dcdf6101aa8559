// Interleaved 1F1B (Narayanan et al. 2021, Megatron-LM): the model is cut into p x v stages and
// rank r holds stages r, r + p, ..., r + (v - 1) p. Microbatches go through in groups of p:
// the k-th forward of a rank works on chunk (k mod pv) / p and microbatch (k / pv) p + k mod p,
// backwards visit the chunks in reverse. Warm-up is 2 (p - r - 1) + (v - 1) p forwards (all of
// them when m = p). The bubble shrinks by v: (p - 1) / (v m) of the compute.
//
// Microbatches must be a multiple of the pipeline size (the groups of p); check() says so.
#include <algorithm>
#include <string>

#include "trellis/schedule_plugin.h"

namespace {

using trellis::Action;
using trellis::ActionType;

class InterleavedSchedule final : public trellis::Schedule {
 public:
  std::vector<Action> actions(const trellis::ScheduleQuery& q) const override {
    const int p = q.pipeline_size, v = q.virtual_stages, m = q.microbatches, r = q.pipeline_rank;
    const int total = m * v;
    auto chunk = [&](int k, bool forward) {
      int c = (k % (p * v)) / p;
      return forward ? c : v - 1 - c;
    };
    auto microbatch = [&](int k) { return (k / (p * v)) * p + k % p; };
    auto stage = [&](int k, bool forward) { return chunk(k, forward) * p + r; };
    int warmup = m == p ? total : std::min(total, (p - r - 1) * 2 + (v - 1) * p);
    std::vector<Action> out;
    int f = 0, b = 0;
    for (; f < warmup; ++f) out.push_back({stage(f, true), ActionType::F, microbatch(f)});
    while (f < total) {
      out.push_back({stage(f, true), ActionType::F, microbatch(f)});
      ++f;
      out.push_back({stage(b, false), ActionType::B, microbatch(b)});
      ++b;
    }
    for (; b < total; ++b) out.push_back({stage(b, false), ActionType::B, microbatch(b)});
    return out;
  }
};

std::vector<trellis::ConfigProblem> check(const trellis::RunQuery& q) {
  std::vector<trellis::ConfigProblem> problems;
  const int p = q.sizes.pipeline;
  if (q.microbatches % p != 0) {
    int lower = q.microbatches / p * p, upper = lower + p;
    problems.push_back(
        {"train.global_batch",
         "the interleaved schedule runs microbatches in groups of pipeline = " + std::to_string(p) +
             "; " + std::to_string(q.microbatches) + " microbatches per step is not a multiple " +
             "(valid: " + (lower > 0 ? std::to_string(lower) + " or " : std::string()) +
             std::to_string(upper) + " microbatches, i.e. global_batch = microbatches x " +
             "micro_batch x data)"});
  }
  return problems;
}

const trellis::PluginDescriptor descriptor = trellis::schedule_descriptor(
    "interleaved", "1.0.0", "interleaved 1F1B: virtual stages round-robin over ranks, bubble / v",
    &trellis::make_schedule_of<InterleavedSchedule>, &check);

}  // namespace

TRELLIS_PLUGIN(descriptor)
