// The RecomputeTrace that full and selective recomputation report to (trellis/layer.h), over the
// run's TraceRecorder: a "recompute <what>" slice on the rank's compute track for each piece of
// forward run again, inside the backward action's slice.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "trace/trace.h"
#include "trellis/layer.h"

namespace trellis {

class RecorderRecomputeTrace final : public RecomputeTrace {
 public:
  // `wait_for_compute` (optional) waits for the device's queued work before a slice ends.
  RecorderRecomputeTrace(TraceRecorder& recorder, std::function<void()> wait_for_compute = {})
      : recorder_(recorder), wait_for_compute_(std::move(wait_for_compute)) {}

  void begin(std::string_view what, int microbatch) override;
  void end() override;

 private:
  struct Open {
    std::string name;
    int microbatch;
    double start_us;
  };
  TraceRecorder& recorder_;
  std::function<void()> wait_for_compute_;
  std::vector<Open> open_;  // nested begins, innermost last
};

}  // namespace trellis
