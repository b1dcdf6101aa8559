// The "sequential" pipeline schedule: no overlap between microbatches.
//
// Each rank takes the microbatches one at a time, in order. For microbatch m it runs the forwards
// of its stages in stage order, then their backwards in reverse stage order, and only then starts
// microbatch m + 1. With v virtual stages, rank r holds stages r, r + p, ..., r + (v - 1) p.
//
// Why this cannot deadlock, even with blocking sends and receives between stages: take one global
// order of all actions, microbatch by microbatch, forwards in stage order 0..pv-1 and then
// backwards in stage order pv-1..0. Every action depends only on actions before it in that order
// (the previous stage's forward, the next stage's backward), and every rank's list is that order
// restricted to its own stages. So the earliest unfinished action is always the next one on its
// rank's list, with its input already sent: some rank can always proceed.
//
// The price is the largest possible bubble: only one stage works at any time. It is the schedule
// to compare the others against, and the one to use when memory matters more than speed, since a
// rank never holds activations of more than one microbatch.
#include <string>
#include <vector>

#include "trellis/error.h"
#include "trellis/schedule_plugin.h"

#ifndef SEQUENTIAL_VERSION
#define SEQUENTIAL_VERSION "0.0.0"
#endif

namespace {

class SequentialSchedule final : public trellis::Schedule {
 public:
  std::vector<trellis::Action> actions(const trellis::ScheduleQuery& q) const override {
    check(q);
    std::vector<trellis::Action> list;
    list.reserve(static_cast<std::size_t>(2 * q.microbatches * q.virtual_stages));
    for (int mb = 0; mb < q.microbatches; ++mb) {
      for (int chunk = 0; chunk < q.virtual_stages; ++chunk) {
        list.push_back({stage_of(chunk, q), trellis::ActionType::F, mb});
      }
      for (int chunk = q.virtual_stages - 1; chunk >= 0; --chunk) {
        list.push_back({stage_of(chunk, q), trellis::ActionType::B, mb});
      }
    }
    return list;
  }

 private:
  // The stage of this rank's chunk `chunk`, under the default placement stage_rank(s) = s % p.
  static int stage_of(int chunk, const trellis::ScheduleQuery& q) {
    return chunk * q.pipeline_size + q.pipeline_rank;
  }

  static void check(const trellis::ScheduleQuery& q) {
    auto fail = [](const std::string& what) {
      throw trellis::InputError("sequential schedule: " + what);
    };
    if (q.pipeline_size < 1) fail("pipeline size must be at least 1");
    if (q.pipeline_rank < 0 || q.pipeline_rank >= q.pipeline_size) {
      fail("pipeline rank " + std::to_string(q.pipeline_rank) + " is outside [0, " +
           std::to_string(q.pipeline_size) + ")");
    }
    if (q.microbatches < 1) fail("needs at least 1 microbatch");
    if (q.virtual_stages < 1) fail("needs at least 1 virtual stage");
  }
};

const trellis::PluginDescriptor descriptor = trellis::schedule_descriptor(
    "sequential", SEQUENTIAL_VERSION,
    "one microbatch at a time, forward then backward: no overlap, least memory",
    &trellis::make_schedule_of<SequentialSchedule>);

}  // namespace

TRELLIS_PLUGIN(descriptor)
