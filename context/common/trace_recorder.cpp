#include "trace_recorder.h"

#include <string>

namespace trellis::context {

namespace {

std::string slice_name(std::string_view what, int step, int steps) {
  return std::string(what) + " " + std::to_string(step) + "/" + std::to_string(steps);
}

}  // namespace

void TraceRecorder::compute(std::string_view what, int step, int steps, double start) const {
  if (trace_ == nullptr) return;
  trace_->compute(slice_name(what, step, steps), start, trace_->now_us());
}

void TraceRecorder::communication(std::string_view what, int step, int steps, double start,
                                  std::int64_t bytes_sent) const {
  if (trace_ == nullptr) return;
  trace_->communication(slice_name(what, step, steps), start, trace_->now_us(), bytes_sent);
}

}  // namespace trellis::context
