// libFuzzer harness: a schedule read from CSV (trellis/schedule.h) the way a run with
// schedule = "csv" reads it: the csv plugin (schedules/csv, linked in) checks the file and makes
// the schedule, core builds the plan (sends and receives added, static checks) and simulates it,
// as the config check does before any rank starts (config/plugin_check.cpp).
// Input: one byte of microbatches (1-16), one of virtual stages (1-4), then the file's text.
// A schedule that reads must also write back (format_schedule_csv) to text that reads the same.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "trellis/error.h"
#include "trellis/pipeline_plan.h"
#include "trellis/plugin.h"
#include "trellis/schedule.h"
#include "trellis/simulator.h"

// The csv plugin's descriptor, exported by TRELLIS_PLUGIN under Boost.DLL's alias name.
extern "C" const void* trellis_plugin;

namespace {

const trellis::PluginDescriptor& csv_plugin() {
  return **static_cast<const trellis::PluginDescriptor* const*>(
      static_cast<const void*>(&trellis_plugin));
}

// The file the plugin reads: one per process, rewritten for every input.
const std::string& schedule_file() {
  static const std::string file = (std::filesystem::temp_directory_path() /
                                   ("trellis-fuzz-schedule-" + std::to_string(::getpid()) + ".csv"))
                                      .string();
  return file;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const int microbatches = 1 + data[0] % 16;
  const int virtual_stages = 1 + data[1] % 4;
  const std::string text(reinterpret_cast<const char*>(data + 2), size - 2);
  std::vector<std::vector<trellis::Action>> lists;
  try {
    lists = trellis::parse_schedule_csv(text, "fuzz.csv");
  } catch (const trellis::InputError&) {
    return 0;  // "fuzz.csv:3: cell 2: ...", exit 2
  }
  if (trellis::parse_schedule_csv(trellis::format_schedule_csv(lists), "written-back.csv") !=
      lists) {
    std::abort();
  }
  std::ofstream(schedule_file(), std::ios::trunc | std::ios::binary) << text;
  trellis::Options options;
  options.set("file", schedule_file());
  trellis::RunQuery query;
  query.sizes.pipeline = static_cast<int>(lists.size());
  query.microbatches = microbatches;
  query.virtual_stages = virtual_stages;
  query.options = &options;
  const trellis::PluginDescriptor& plugin = csv_plugin();
  if (!plugin.check(query).empty()) return 0;
  try {
    const std::unique_ptr<trellis::Schedule> schedule = plugin.make_schedule({&options});
    const trellis::PipelinePlan plan =
        trellis::build_plan(*schedule, {query.sizes.pipeline, 0, microbatches, virtual_stages});
    (void)trellis::simulate(plan, trellis::kDryRunCosts);
  } catch (const trellis::Error&) {
    // An inconsistent schedule, listed with its actions: a config error.
  }
  return 0;
}
