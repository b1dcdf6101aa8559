// The time a training run shows on its progress bar: elapsed and the estimate of what is left.
#include <doctest/doctest.h>

#include "train/progress_time.h"

using trellis::format_duration;
using trellis::progress_time_text;

TEST_CASE("durations are shown in two units at most, rounded down") {
  CHECK(format_duration(0.0) == "0s");
  CHECK(format_duration(59.9) == "59s");
  CHECK(format_duration(60.0) == "1m00s");
  CHECK(format_duration(185.0) == "3m05s");
  CHECK(format_duration(3600.0 + 2 * 60 + 59) == "1h02m");
  CHECK(format_duration(2 * 86400.0 + 3 * 3600 + 1) == "2d03h");
  CHECK(format_duration(-5.0) == "0s");  // a clock step backwards shows nothing negative
}

TEST_CASE("the estimate is the steps left at the mean time of the steps run so far") {
  // 10 steps in 20 s: 2 s a step, 90 left = 3 min.
  CHECK(progress_time_text(20.0, 10, 90) == "elapsed 20s, ETA 3m00s");
  // A resumed run counts only its own steps: 5 steps in 50 s, 5 left.
  CHECK(progress_time_text(50.0, 5, 5) == "elapsed 50s, ETA 50s");
  // Nothing left: no estimate.
  CHECK(progress_time_text(125.0, 100, 0) == "elapsed 2m05s");
}
