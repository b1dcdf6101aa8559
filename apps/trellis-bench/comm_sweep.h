// The measurement: for each size, each placement (out of place, then in place), nccl-tests'
// procedure on one transport.
//
//   fill the buffers; WARMUP untimed calls; a barrier; ITERS calls back to back, each waited
//   for, timed as a whole on every rank; time = the slowest rank's mean (max over ranks);
//   with -c 1, fill again, one more call, count the wrong elements over all ranks.
//
// Buffers are allocated once, for the largest size, and every size uses the front of them.
// Sizes that round to the same buffers (all_gather of 8 B over 4 ranks and of 12 B) are
// measured once. A placement the transport cannot do, or that the backend refuses at the call,
// is reported as unavailable with the reason rather than measured.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench_transport.h"
#include "comm_options.h"
#include "watchdog.h"

namespace trellis::bench {

struct PlacementFigures {
  std::string unavailable;  // why this placement was not measured; "" when it was
  double time_us = 0;
  double algbw_gbs = 0;
  double busbw_gbs = 0;
  std::optional<std::int64_t> wrong;  // wrong elements over all ranks; unset without -c 1
};

struct SweepRow {
  OpShape shape;
  PlacementFigures out_of_place;
  PlacementFigures in_place;
};

// Measures every size on `transport`, which every rank of the world calls alike. `on_row` is
// called on every rank with each row as soon as it is complete. `label` names the run in the
// watchdog's message ("backend ucx").
std::vector<SweepRow> run_sweep(BenchTransport& transport, const CommBenchOptions& options,
                                const std::shared_ptr<Allocator>& allocator, Watchdog& watchdog,
                                const std::string& label,
                                const std::function<void(const SweepRow&)>& on_row);

}  // namespace trellis::bench
