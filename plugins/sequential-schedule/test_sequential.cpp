// Loads the built plugin the way Trellis does (through the plugin registry) and checks the
// actions it gives. usage: test_sequential <path of libtrellis_schedule_sequential.so>
#include <iostream>
#include <string>
#include <vector>

#include "trellis/error.h"
#include "trellis/plugin_registry.h"

namespace {

int failures = 0;

std::string text(const std::vector<trellis::Action>& actions) {
  std::string out;
  for (const trellis::Action& a : actions) {
    if (!out.empty()) out += ' ';
    out += trellis::to_string(a);
  }
  return out;
}

void expect(const trellis::Schedule& schedule, trellis::ScheduleQuery q, const std::string& want) {
  const std::string got = text(schedule.actions(q));
  if (got == want) return;
  ++failures;
  std::cerr << "FAIL: pp=" << q.pipeline_size << " rank=" << q.pipeline_rank
            << " microbatches=" << q.microbatches << " virtual=" << q.virtual_stages
            << "\n  expected: " << want << "\n  got:      " << got << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: test_sequential <path of libtrellis_schedule_sequential.so>\n";
    return 2;
  }
  try {
    const trellis::PluginRegistry registry =
        trellis::PluginRegistry::discover({{argv[1], "command line"}});
    const auto schedule = registry.make_schedule("sequential", trellis::ScheduleInit{});

    expect(*schedule, {.pipeline_size = 1, .pipeline_rank = 0, .microbatches = 2},
           "0F0 0B0 0F1 0B1");
    // Two ranks: rank 1 holds the last stage and runs each microbatch's backward right away.
    expect(*schedule, {.pipeline_size = 2, .pipeline_rank = 0, .microbatches = 2},
           "0F0 0B0 0F1 0B1");
    expect(*schedule, {.pipeline_size = 2, .pipeline_rank = 1, .microbatches = 2},
           "1F0 1B0 1F1 1B1");
    // Two virtual stages: rank 0 holds stages 0 and 2, forwards in stage order, backwards reversed.
    expect(*schedule,
           {.pipeline_size = 2, .pipeline_rank = 0, .microbatches = 2, .virtual_stages = 2},
           "0F0 2F0 2B0 0B0 0F1 2F1 2B1 0B1");
    expect(*schedule,
           {.pipeline_size = 2, .pipeline_rank = 1, .microbatches = 1, .virtual_stages = 2},
           "1F0 3F0 3B0 1B0");
  } catch (const trellis::Error& e) {
    std::cerr << "FAIL: " << e.what() << "\n";
    return 1;
  }
  if (failures != 0) return 1;
  std::cout << "sequential schedule: all checks passed\n";
  return 0;
}
