// Test plugin "test-interleaved": checks like Megatron's interleaved 1F1B — with virtual stages,
// microbatches go through the pipeline in groups of pipeline size.
#include <string>

#include "trellis/error.h"
#include "trellis/plugin.h"

namespace {

std::unique_ptr<trellis::Schedule> make(const trellis::ScheduleInit&) {
  throw trellis::Error("test plugin: not for running");
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
