// Reading the measurements the planner is calibrated on:
//  - trellis-bench comm's JSON (DESIGN.md's contract): a list of rows with op, backend, nranks,
//    size_bytes, time_us, algbw_gbs, busbw_gbs, wrong, in_place;
//  - trellis-train's metrics.jsonl: one object per optimizer step with step, step_ms,
//    peak_mem_bytes (and more).
// A file that is not what it should be is an InputError naming the file and the line or row.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "plan/collective_cost.h"

namespace trellis::plan {

struct CommMeasurement {
  Collective op = Collective::all_reduce;
  std::string backend;
  int nranks = 2;
  double bytes = 0.0;    // size_bytes
  double seconds = 0.0;  // time_us / 1e6
};

// Rows with wrong > 0 (a wrong result) are left out; they time nothing useful.
std::vector<CommMeasurement> read_comm_bench(const std::filesystem::path& file);

struct StepMeasurement {
  std::int64_t step = 0;
  double seconds = 0.0;
  double peak_mem_bytes = 0.0;
};

std::vector<StepMeasurement> read_metrics(const std::filesystem::path& file);

// The median step time, leaving out the first step (it pays for first-touch allocations and
// warm-up) when there are more than one.
double median_step_seconds(const std::vector<StepMeasurement>& steps);
// The largest peak_mem_bytes over the steps.
double peak_memory(const std::vector<StepMeasurement>& steps);

}  // namespace trellis::plan
