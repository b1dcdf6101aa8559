// The `csv` schedule: each rank's actions read from a file, so a schedule can be written by hand
// or exported from PyTorch (torch.distributed.pipelining writes the same format). Name it with
//   [parallel] schedule = "csv"
//   [schedule.csv] file = "my_schedule.csv"
// The file has one line per pipeline rank; a stage runs on the rank whose line holds its
// compute. Trellis adds the sends and receives when the file has none, and its simulator rejects
// the file, with the grid of actions, if it could deadlock.
#include <iterator>
#include <map>
#include <string>

#include "trellis/error.h"
#include "trellis/schedule_plugin.h"

namespace {

using trellis::Action;

class CsvSchedule final : public trellis::Schedule {
 public:
  explicit CsvSchedule(std::string file)
      : file_(std::move(file)), lists_(trellis::read_schedule_csv(file_)) {
    // The first rank whose line holds a stage's compute runs it. A map, not a vector indexed by
    // stage: a file may name any stage up to 10^9, and a stage the pipeline does not have is
    // reported by the plan's checks, not allocated for (fuzz_schedule_csv found the 2.5 GB).
    for (std::size_t r = 0; r < lists_.size(); ++r)
      for (const Action& a : lists_[r])
        if (trellis::is_compute(a.type)) stage_rank_.emplace(a.stage, static_cast<int>(r));
  }

  std::vector<Action> actions(const trellis::ScheduleQuery& q) const override {
    if (static_cast<int>(lists_.size()) != q.pipeline_size) {
      throw trellis::InputError("schedule file " + file_ + " has " + std::to_string(lists_.size()) +
                                " lines, one per rank, but the pipeline has " +
                                std::to_string(q.pipeline_size) + " ranks");
    }
    return lists_[q.pipeline_rank];
  }

  int stage_rank(int stage, const trellis::ScheduleQuery& q) const override {
    const auto it = stage_rank_.find(stage);
    return it != stage_rank_.end() ? it->second : stage % q.pipeline_size;
  }

 private:
  std::string file_;
  std::vector<std::vector<Action>> lists_;
  std::map<int, int> stage_rank_;  // stage -> the rank whose line first holds its compute
};

std::string file_option(const trellis::Options* options) {
  std::string file = options ? options->get_string("file", "") : "";
  if (file.empty()) {
    throw trellis::InputError(
        "the csv schedule needs its file: write [schedule.csv] file = \"PATH\" "
        "(one line per pipeline rank, actions like 0F0,0B0)");
  }
  return file;
}

std::unique_ptr<trellis::Schedule> make(const trellis::ScheduleInit& init) {
  return std::make_unique<CsvSchedule>(file_option(init.options));
}

std::vector<trellis::ConfigProblem> check(const trellis::RunQuery& q) {
  try {
    CsvSchedule schedule(file_option(q.options));
    schedule.actions({q.sizes.pipeline, 0, q.microbatches, q.virtual_stages});
  } catch (const trellis::InputError& e) {
    return {{"schedule.csv.file", e.what()}};
  }
  return {};
}

const trellis::OptionSpec options[] = {
    {"file", trellis::OptionType::path, "\"\"",
     "the schedule: one line per pipeline rank of actions such as 0F0,0B0 (required)"},
};

const trellis::PluginDescriptor descriptor = trellis::schedule_descriptor(
    "csv", "1.0.0", "a schedule read from a CSV file (torch.distributed.pipelining's format)",
    &make, &check, options, std::size(options));

}  // namespace

TRELLIS_PLUGIN(descriptor)
