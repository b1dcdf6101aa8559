// Test plugin "test-interleaved": checks like Megatron's interleaved 1F1B — with virtual stages,
// microbatches go through the pipeline in groups of pipeline size.
#include <string>

#include "trellis/error.h"
#include "trellis/plugin.h"

namespace {

// A valid (if slow) order for the simulator: one microbatch at a time, forwards through the
// rank's chunks, then backwards in reverse.
class OneAtATime final : public trellis::Schedule {
 public:
  std::vector<trellis::Action> actions(const trellis::ScheduleQuery& q) const override {
    std::vector<trellis::Action> out;
    for (int mb = 0; mb < q.microbatches; ++mb) {
      for (int c = 0; c < q.virtual_stages; ++c)
        out.push_back({c * q.pipeline_size + q.pipeline_rank, trellis::ActionType::F, mb});
      for (int c = q.virtual_stages - 1; c >= 0; --c)
        out.push_back({c * q.pipeline_size + q.pipeline_rank, trellis::ActionType::B, mb});
    }
    return out;
  }
};

std::unique_ptr<trellis::Schedule> make(const trellis::ScheduleInit&) {
  return std::make_unique<OneAtATime>();
}

std::vector<trellis::ConfigProblem> check(const trellis::RunQuery& query) {
  std::vector<trellis::ConfigProblem> problems;
  const int pipeline = query.sizes.pipeline;
  if (query.virtual_stages > 1 && query.microbatches % pipeline != 0) {
    problems.push_back(
        {"train.global_batch", "with virtual_stages " + std::to_string(query.virtual_stages) +
                                   ", the " + std::to_string(query.microbatches) +
                                   " microbatches per data rank must be a multiple of pipeline " +
                                   std::to_string(pipeline) + "; valid: a global_batch giving " +
                                   "a multiple of " + std::to_string(pipeline) + " microbatches"});
  }
  return problems;
}

const trellis::PluginDescriptor descriptor{
    .abi = trellis::kAbiVersion,
    .kind = trellis::PluginKind::schedule,
    .name = "test-interleaved",
    .version = "0.0.1",
    .summary = "config tests: checks microbatches % pipeline with virtual stages",
    .make_schedule = &make,
    .check = &check,
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
