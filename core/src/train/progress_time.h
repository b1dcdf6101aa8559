// The time a run has taken and the estimate of the time it still needs, as the progress bar and
// lines show them. The estimate is the steps left at the mean wall time of the steps this process
// has run (checkpoints and validations included, the first step's warm-up too), so it settles as
// the run goes on.
#pragma once

#include <cstdint>
#include <string>

namespace trellis {

// "42s", "3m05s", "1h02m", "2d03h": two units at most, rounded down.
std::string format_duration(double seconds);

// "elapsed 1m05s, ETA 3m12s" after `steps_done` steps of this process in `elapsed_seconds` with
// `steps_left` to go; "elapsed 1m48s" once none is left.
std::string progress_time_text(double elapsed_seconds, std::int64_t steps_done,
                               std::int64_t steps_left);

}  // namespace trellis
